package register

import (
	"strings"
	"testing"

	docker "github.com/fsouza/go-dockerclient"
)

// TestTagTemplateFunctions: registrator 7.4's tag functions, with its
// argument orders and its answers at the edges.
func TestTagTemplateFunctions(t *testing.T) {
	c := &docker.Container{
		ID: "e20f9c1a76565d62ae24a3bb877b17b862b6eab94f4e95a0e07ccf25087aaf4f",
		Config: &docker.Config{
			Image:  "registry:5000/team/app:1.25",
			Env:    []string{"ENVIRONMENT=test", "SERVICE_8105_NAME=foo", "HOME=/home/foobar", "SERVICE_9404_NAME=bar"},
			Labels: map[string]string{"arn": "arn:aws:ecs:region:1:task/368f4403"},
		},
	}
	tests := []struct{ tmpl, want string }{
		{`{{ strSlice .ID 0 12 }}`, "e20f9c1a7656"},
		{`{{ strSlice "abcdef" 2 }}`, "cdef"},
		{`{{ strSlice "abcdef" 4 2 }}`, "ef"},      // end before start: from start
		{`{{ strSlice "abcdef" 2 99 }}`, "abcdef"}, // past the end: all of it
		{`{{ strSlice "abcdef" 99 }}`, "abcdef"},
		{`{{ sIndex 0 .Config.Env }}`, "ENVIRONMENT=test"},
		{`{{ sIndex -1 .Config.Env }}`, "SERVICE_9404_NAME=bar"},
		{`{{ sIndex -9 .Config.Env }}`, "ENVIRONMENT=test"},
		{`{{ sIndex 9 .Config.Env }}`, "SERVICE_9404_NAME=bar"},
		{`{{ mIndex "arn" .Config.Labels }}`, "arn:aws:ecs:region:1:task/368f4403"},
		{`{{ toUpper "ab" }}{{ toLower "CD" }}`, "ABcd"},
		{`{{ replace -1 "=" "" "=foo=" }}`, "foo"},
		{`{{ replace 1 "=" "" "=foo=" }}`, "foo="},
		{`{{ join ";" .Config.Env }}`, "ENVIRONMENT=test;SERVICE_8105_NAME=foo;HOME=/home/foobar;SERVICE_9404_NAME=bar"},
		{`{{ split ":" .Config.Image }}`, "[registry 5000/team/app 1.25]"},
		{`{{ splitIndex -1 "/" (mIndex "arn" .Config.Labels) }}`, "368f4403"},
		{`{{ splitIndex 1 ":" .Config.Image }}`, "5000/team/app"},
		{`{{ matchFirstElement "^SERVICE_" .Config.Env }}`, "SERVICE_8105_NAME=foo"},
		{`{{ matchAllElements "^SERVICE_" .Config.Env }}`, "[SERVICE_8105_NAME=foo SERVICE_9404_NAME=bar]"},
		{`{{ matchFirstElement "^NONE" .Config.Env }}`, ""},
		{`{{ .Config.Labels.missing }}`, "<no value>"},
	}
	for _, tt := range tests {
		got, w := expandTags(c, tt.tmpl, "test", false)
		if w != nil || got != tt.want {
			t.Errorf("%s = %q (warning %v), want %q", tt.tmpl, got, w, tt.want)
		}
	}
	for _, bad := range []string{
		`{{ sIndex 0 .Config.Cmd }}`, `{{ strSlice "ab" -1 }}`, `{{ matchFirstElement "(" .Config.Env }}`,
		`{{ httpGet "http://127.0.0.1:1/" }}`, `{{ jsonParse "x" "a" }}`,
	} {
		if got, w := expandTags(c, bad, "test", false); w == nil || got != "" {
			t.Errorf("%s = %q, %v; want it dropped with a warning", bad, got, w)
		}
	}
}

// TestServiceTagsNotATemplate: a SERVICE_TAGS value that does not parse as
// a template is kept as written, as registrator 7.4 read it; a block's tag
// that does not parse is dropped.
func TestServiceTagsNotATemplate(t *testing.T) {
	c := &docker.Container{Config: &docker.Config{}}
	v := view{"tags": {v: "a,{{b", src: `label "SERVICE_TAGS"`}}
	tags, warns := serviceTags(c, v, []string{"x,{{y"}, "tcp")
	if strings.Join(tags, "|") != "a|{{b" {
		t.Errorf("tags %q, want a and {{b", tags)
	}
	if len(warns) != 2 || !strings.Contains(warns[0].msg, "kept as written") || !strings.Contains(warns[1].msg, "dropped") {
		t.Errorf("warnings %v", warns)
	}
}
