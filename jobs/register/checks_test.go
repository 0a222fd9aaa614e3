package register

import (
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
		{"http before tcp", map[string]string{"check_tcp": "true", "check_http": "/"},
			&api.AgentServiceCheck{HTTP: "http://10.0.0.1:8080/", Interval: "10s"}},
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
