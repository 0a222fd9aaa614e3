package register

import (
	"fmt"
	"strings"
	"testing"
)

func TestUserMeta(t *testing.T) {
	v := view{
		"name":                   {v: "n"},
		"check_http":             {v: "/h"},
		"region":                 {v: "eu"},
		"Mixed_Case-1":           {v: "ok"},
		"bad.key":                {v: "x", src: "label A"},
		"consul-x":               {v: "x", src: "label B"},
		"drcon-owner":            {v: "x", src: "label C"},
		strings.Repeat("k", 129): {v: "x", src: "label D"},
		"long":                   {v: strings.Repeat("v", 513), src: "label E"},
	}
	meta, warns := userMeta(v)
	// check_* are meta too, as registrator sent them.
	if len(meta) != 3 || meta["region"] != "eu" || meta["Mixed_Case-1"] != "ok" || meta["check_http"] != "/h" {
		t.Errorf("meta = %v", meta)
	}
	if len(warns) != 5 {
		t.Errorf("warnings = %v, want 5", warns)
	}
	for _, w := range warns {
		if !strings.HasPrefix(w.src, "label ") {
			t.Errorf("warning without its source: %v", w)
		}
	}
}

func TestUserMetaLimit(t *testing.T) {
	v := view{}
	for i := range 70 {
		v[fmt.Sprintf("k%02d", i)] = value{v: "x"}
	}
	meta, warns := userMeta(v)
	// One warning names every key left out, rather than a line per key.
	if len(meta) != metaMaxPairs-ownMetaPairs || len(warns) != 1 ||
		!strings.Contains(warns[0].msg, fmt.Sprintf("%d not registered", 70-len(meta))) || !strings.HasSuffix(warns[0].msg, "k69") {
		t.Errorf("%d meta, warnings %v", len(meta), warns)
	}
	if _, ok := meta["k00"]; !ok {
		t.Errorf("the first keys by name should be kept")
	}
}
