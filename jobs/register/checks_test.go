package register

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

// viewOf is a view of SERVICE_* labels given without their prefix.
func viewOf(kv map[string]string) view {
	v := view{}
	for k, val := range kv {
		v[k] = value{v: val, src: `label "SERVICE_` + k + `"`}
	}
	return v
}

// TestUserCheck: the check registrator's SERVICE_CHECK_* keys ask for, in
// its order of precedence, with its defaults and its reading of switches.
func TestUserCheck(t *testing.T) {
	tests := []struct {
		name string
		kv   map[string]string
		want *api.AgentServiceCheck // nil: no check
	}{
		{"none", map[string]string{"check_interval": "5s"}, nil},
		{"http", map[string]string{"check_http": "health", "check_http_method": "HEAD", "check_interval": "5s", "check_timeout": "2s"},
			&api.AgentServiceCheck{HTTP: "http://10.0.0.1:8080/health", Method: "HEAD", Interval: "5s", Timeout: "2s"}},
		{"https skips verification when asked", map[string]string{"check_https": "/h", "check_tls_skip_verify": "true"},
			&api.AgentServiceCheck{HTTP: "https://10.0.0.1:8080/h", TLSSkipVerify: true, Interval: "10s"}},
		{"script", map[string]string{"check_script": `nc -z "$SERVICE_IP" $SERVICE_PORT`},
			&api.AgentServiceCheck{Args: []string{"nc", "-z", "10.0.0.1", "8080"}, Interval: "10s"}},
		// Consul runs a script check with a timeout too (registrator set it
		// for HTTP and TCP only, so that the label did nothing).
		{"script timeout", map[string]string{"check_script": "true", "check_timeout": "3s"},
			&api.AgentServiceCheck{Args: []string{"true"}, Interval: "10s", Timeout: "3s"}},
		{"tcp", map[string]string{"check_tcp": "true", "check_deregister_after": "90m"},
			&api.AgentServiceCheck{TCP: "10.0.0.1:8080", Interval: "10s", DeregisterCriticalServiceAfter: "90m"}},
		{"grpc", map[string]string{"check_grpc": "true"}, &api.AgentServiceCheck{GRPC: "10.0.0.1:8080", Interval: "10s"}},
		{"grpc tls: any value is on", map[string]string{"check_grpc": "true", "check_grpc_use_tls": "yes", "check_tls_skip_verify": "on"},
			&api.AgentServiceCheck{GRPC: "10.0.0.1:8080", GRPCUseTLS: true, TLSSkipVerify: true, Interval: "10s"}},
		// registrator's consul/consul.go buildCheck sets TLSSkipVerify only
		// inside its check_grpc_use_tls branch.
		{"grpc: skip verify only with tls", map[string]string{"check_grpc": "true", "check_tls_skip_verify": "true"},
			&api.AgentServiceCheck{GRPC: "10.0.0.1:8080", Interval: "10s"}},
		{"grpc tls: false is off", map[string]string{"check_grpc": "true", "check_grpc_use_tls": "false", "check_tls_skip_verify": "0"},
			&api.AgentServiceCheck{GRPC: "10.0.0.1:8080", Interval: "10s"}},
		{"initial status", map[string]string{"check_tcp": "1", "check_initial_status": "critical"},
			&api.AgentServiceCheck{TCP: "10.0.0.1:8080", Interval: "10s", Status: "critical"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chk, _, warns := userCheck(viewOf(tt.kv), "h:web:80", "10.0.0.1", 8080)
			if len(warns) > 0 {
				t.Errorf("warnings: %v", warns)
			}
			if tt.want == nil {
				if chk != nil {
					t.Errorf("got %+v, want no check", chk)
				}
				return
			}
			tt.want.CheckID = "service:h:web:80"
			if chk == nil || !equalCheck(*chk, *tt.want) {
				t.Errorf("got %+v\nwant %+v", chk, tt.want)
			}
		})
	}
}

// equalCheck compares the fields userCheck sets.
func equalCheck(a, b api.AgentServiceCheck) bool {
	return a.CheckID == b.CheckID && a.HTTP == b.HTTP && a.Method == b.Method && a.TCP == b.TCP && a.GRPC == b.GRPC &&
		a.GRPCUseTLS == b.GRPCUseTLS && a.TLSSkipVerify == b.TLSSkipVerify && a.Interval == b.Interval &&
		a.Timeout == b.Timeout && a.Status == b.Status && a.TTL == b.TTL &&
		a.DeregisterCriticalServiceAfter == b.DeregisterCriticalServiceAfter && slices.Equal(a.Args, b.Args)
}

// TestUserCheckTTLFloor: drcon writes a TTL check every third of its TTL, so
// a SERVICE_CHECK_TTL below a second is raised to one, with a warning that
// names the label (a TTL of 100ms had drcon write every 100ms).
func TestUserCheckTTLFloor(t *testing.T) {
	chk, ttl, warns := userCheck(viewOf(map[string]string{"check_ttl": "100ms"}), "h:web:80", "10.0.0.1", 8080)
	if chk == nil || chk.TTL != "1s" || ttl == nil || ttl.TTL != time.Second {
		t.Fatalf("check %+v, ttl %+v; want a TTL of 1s", chk, ttl)
	}
	if len(warns) != 1 || warns[0].src != `label "SERVICE_check_ttl"` || !strings.Contains(warns[0].msg, `"100ms" is below 1s`) {
		t.Errorf("warnings %+v", warns)
	}
	if _, _, warns := userCheck(viewOf(map[string]string{"check_ttl": "1s"}), "h:web:80", "10.0.0.1", 8080); len(warns) != 0 {
		t.Errorf("1s warned: %+v", warns)
	}
}

// TestUserCheckKinds: a port's own SERVICE_<port>_CHECK_* replaces the
// generic check whatever their kinds (registrator ranked them together, so
// that SERVICE_CHECK_HTTP for every port beat SERVICE_81_CHECK_TCP); of the
// kinds set on one level the first counts, and the others are named in a
// warning, as settings that register nothing.
func TestUserCheckKinds(t *testing.T) {
	m := readMetadata(nil, map[string]string{
		"SERVICE_CHECK_HTTP": "/health", "SERVICE_CHECK_TCP": "true",
		"SERVICE_81_CHECK_TCP": "true", "SERVICE_81_CHECK_GRPC": "true",
	})
	tests := []struct {
		port     int
		http     string
		tcp      string
		warnings []string
	}{
		{80, "http://10.0.0.1:8080/health", "", []string{`label "SERVICE_CHECK_TCP": no check registered for it: a service has one check, ` +
			`and label "SERVICE_CHECK_HTTP" comes first (HTTP, HTTPS, script, TTL, TCP, gRPC)`}},
		{81, "", "10.0.0.1:8080", []string{`label "SERVICE_81_CHECK_GRPC": no check registered for it: a service has one check, ` +
			`and label "SERVICE_81_CHECK_TCP" comes first (HTTP, HTTPS, script, TTL, TCP, gRPC)`}},
	}
	for _, tt := range tests {
		chk, _, warns := userCheck(m.forPort(tt.port), "h:web:80", "10.0.0.1", 8080)
		if chk == nil || chk.HTTP != tt.http || chk.TCP != tt.tcp || chk.GRPC != "" {
			t.Errorf("port %d: check %+v, want HTTP %q TCP %q", tt.port, chk, tt.http, tt.tcp)
		}
		var got []string
		for _, w := range warns {
			got = append(got, w.String())
		}
		if !slices.Equal(got, tt.warnings) {
			t.Errorf("port %d: warnings %q, want %q", tt.port, got, tt.warnings)
		}
	}
}

// TestDurationKey: a bad duration is named with its label, and a number
// without a unit is told so (Consul refused the whole registration at "10"
// under registrator).
func TestDurationKey(t *testing.T) {
	tests := map[string]string{
		"10s":  "",
		"10":   `label "SERVICE_check_interval": "10" is not a positive duration (it needs a unit: 10s); ignored`,
		"1.5":  `label "SERVICE_check_interval": "1.5" is not a positive duration (it needs a unit: 1.5s); ignored`,
		"abc":  `label "SERVICE_check_interval": "abc" is not a positive duration; ignored`,
		"-1s":  `label "SERVICE_check_interval": "-1s" is not a positive duration; ignored`,
		"-1":   `label "SERVICE_check_interval": "-1" is not a positive duration; ignored`,
		"0":    `label "SERVICE_check_interval": "0" is not a positive duration; ignored`,
		"1e3":  `label "SERVICE_check_interval": "1e3" is not a positive duration; ignored`,
		"Inf":  `label "SERVICE_check_interval": "Inf" is not a positive duration; ignored`,
		"10ms": "",
		// Not a number alone: which unit is missing is anyone's guess
		// (1h30 is likely 1h30m, not 1h30s).
		"1h30": `label "SERVICE_check_interval": "1h30" is not a positive duration; ignored`,
	}
	for in, want := range tests {
		d, warns := durationKey(viewOf(map[string]string{"check_interval": in}), "check_interval")
		got := ""
		if len(warns) > 0 {
			got = warns[0].String()
		}
		if got != want || (want == "") != (d == in) {
			t.Errorf("durationKey(%q) = %q, %q; want warning %q", in, d, got, want)
		}
	}
}

// TestUserCheckURL: SERVICE_CHECK_HTTP takes a path; a URL gives a check
// that can never pass (as under registrator), so it is named in a warning.
func TestUserCheckURL(t *testing.T) {
	chk, _, warns := userCheck(viewOf(map[string]string{"check_http": "http://example.com/health"}), "h:web:80", "10.0.0.1", 8080)
	want := `label "SERVICE_check_http": takes a path on the service's address and port, not a URL: the check asks http://10.0.0.1:8080/http://example.com/health`
	if chk == nil || len(warns) != 1 || warns[0].String() != want {
		t.Errorf("check %+v, warnings %v; want %q", chk, warns, want)
	}
	// A path whose query holds a URL is a path.
	chk, _, warns = userCheck(viewOf(map[string]string{"check_http": "/login?next=http://example.com/"}), "h:web:80", "10.0.0.1", 8080)
	if chk == nil || chk.HTTP != "http://10.0.0.1:8080/login?next=http://example.com/" || len(warns) != 0 {
		t.Errorf("path with a URL in its query: check %+v, warnings %v; want none", chk, warns)
	}
	chk, _, warns = userCheck(viewOf(map[string]string{"check_https": "HTTPS://example.com"}), "h:web:80", "10.0.0.1", 8080)
	if chk == nil || len(warns) != 1 {
		t.Errorf("HTTPS://example.com: check %+v, warnings %v; want one", chk, warns)
	}
}

// TestUserCheckPortModifiers: a port's own settings of a check (interval,
// method, first status) are no kind of check: they change the check the
// port gets from the generic kind and replace none, and alone they build
// none. A port's own kind replaces the generic one with its logic: TCP
// beside a generic TTL gets no heartbeat.
func TestUserCheckPortModifiers(t *testing.T) {
	m := readMetadata(nil, map[string]string{
		"SERVICE_CHECK_HTTP": "/health", "SERVICE_81_CHECK_INTERVAL": "5s", "SERVICE_82_CHECK_HTTP_METHOD": "HEAD",
	})
	for port, want := range map[int]api.AgentServiceCheck{
		80: {HTTP: "http://10.0.0.1:8080/health", Interval: "10s"},
		81: {HTTP: "http://10.0.0.1:8080/health", Interval: "5s"},
		82: {HTTP: "http://10.0.0.1:8080/health", Method: "HEAD", Interval: "10s"},
	} {
		chk, ttl, warns := userCheck(m.forPort(port), "h:web:80", "10.0.0.1", 8080)
		want.CheckID = "service:h:web:80"
		if chk == nil || !reflect.DeepEqual(*chk, want) || ttl != nil || len(warns) != 0 {
			t.Errorf("port %d: check %+v, ttl %+v, warnings %v; want %+v", port, chk, ttl, warns, want)
		}
	}
	m = readMetadata(nil, map[string]string{"SERVICE_81_CHECK_HTTP_METHOD": "HEAD", "SERVICE_81_CHECK_INTERVAL": "5s"})
	if chk, ttl, warns := userCheck(m.forPort(81), "h:web:81", "10.0.0.1", 8080); chk != nil || ttl != nil || len(warns) != 0 {
		t.Errorf("modifiers alone: check %+v, ttl %+v, warnings %v; want none", chk, ttl, warns)
	}
	m = readMetadata(nil, map[string]string{"SERVICE_CHECK_TTL": "30s", "SERVICE_81_CHECK_TCP": "true"})
	if chk, ttl, warns := userCheck(m.forPort(81), "h:web:81", "10.0.0.1", 8080); chk == nil || chk.TCP != "10.0.0.1:8080" ||
		chk.TTL != "" || chk.Interval != "10s" || ttl != nil || len(warns) != 0 {
		t.Errorf("port TCP beside generic TTL: check %+v, ttl %+v, warnings %v", chk, ttl, warns)
	}
	if _, ttl, _ := userCheck(m.forPort(80), "h:web:80", "10.0.0.1", 8080); ttl == nil || ttl.TTL != 30*time.Second {
		t.Errorf("generic TTL on port 80: ttl %+v", ttl)
	}
}
