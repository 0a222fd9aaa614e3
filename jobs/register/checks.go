package register

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
)

// Check IDs. The user's check keeps the ID Consul gives a service's only
// check ("service:<id>"), as under registrator; drcon's own checks get a
// prefix of their own.
const (
	userCheckPrefix   = "service:"
	healthCheckPrefix = "drcon-health:"
	maintCheckPrefix  = "_service_maintenance:" // Consul's, for maintenance mode
)

const (
	// healthTTL is the TTL of the check that mirrors a Docker HEALTHCHECK.
	// drcon refreshes it every third of that; if drcon itself stops, the
	// check turns critical after it rather than claim a health nobody
	// watches any more.
	healthTTL = time.Minute
	// outputRunning is the output of a SERVICE_CHECK_TTL check drcon keeps.
	outputRunning = "drcon: container running"
	// defaultInterval is registrator's interval of script, HTTP, TCP and
	// gRPC checks.
	defaultInterval = "10s"
	// minTTL is the shortest SERVICE_CHECK_TTL: drcon writes a check every
	// third of its TTL.
	minTTL = time.Second
)

// checkKinds are the SERVICE_CHECK_* keys, in registrator's order of
// precedence: a service gets the first kind it has.
var checkKinds = []string{"check_http", "check_https", "check_script", "check_ttl", "check_tcp", "check_grpc"}

// ttlCheck is a TTL check whose status drcon sends.
type ttlCheck struct {
	ID     string
	Status string // passing | critical
	Output string
	TTL    time.Duration
}

// userCheck builds the check a service's SERVICE_CHECK_* keys ask for, at
// most one as in registrator. A TTL check is drcon's to keep passing while
// the container runs (#580), so it is returned as a ttlCheck too.
func userCheck(v view, serviceID, host string, port int) (*api.AgentServiceCheck, *ttlCheck, []warning) {
	var warns []warning
	warn := func(key, format string, args ...any) {
		warns = append(warns, warning{src: v[key].src, msg: fmt.Sprintf(format, args...)})
	}
	if v.get("check_cmd") != "" {
		warn("check_cmd", "SERVICE_CHECK_CMD needs registrator's check-cmd helper, which Consul images lack; use SERVICE_CHECK_SCRIPT")
	}
	kind := checkKind(v)
	if kind == "" {
		return nil, nil, warns
	}
	for _, k := range checkKinds {
		// A port's own check replaces the generic one, as its other keys
		// do; of the kinds set on the same level only the first counts.
		if k != kind && v.get(k) != "" && v[k].port == v[kind].port {
			warn(k, "no check registered for it: a service has one check, and %s comes first (HTTP, HTTPS, script, TTL, TCP, gRPC)", v[kind].src)
		}
	}
	val := v.get(kind)
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	chk := &api.AgentServiceCheck{CheckID: userCheckPrefix + serviceID}
	duration := func(key string) string {
		d, w := durationKey(v, key)
		warns = append(warns, w...)
		return d
	}
	// A switch is on with any value, as in registrator ("yes", "on"),
	// except one that reads as false ("false", "0"), which registrator
	// also took for on.
	boolean := func(key string) bool {
		b := v.get(key)
		if b == "" {
			return false
		}
		parsed, err := strconv.ParseBool(b)
		return parsed || err != nil
	}
	needsHost := func() bool {
		if host == "" {
			warn(kind, "no address to check: set host_ip or publish the port on a specific address")
			return false
		}
		return true
	}
	initialStatus := func() string {
		switch s := v.get("check_initial_status"); s {
		case "", api.HealthPassing, api.HealthWarning, api.HealthCritical:
			return s
		default:
			warn("check_initial_status", "%q is not passing, warning or critical; ignored", s)
			return ""
		}
	}
	var ttl *ttlCheck
	switch kind {
	case "check_http", "check_https":
		if !needsHost() {
			return nil, nil, warns
		}
		scheme := strings.TrimPrefix(kind, "check_")
		path := val
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		chk.HTTP = scheme + "://" + addr + path
		if before, _, ok := strings.Cut(val, "://"); ok && !strings.ContainsAny(before, "/?#") {
			// As under registrator, whose check could never pass either.
			// A URL in a path's query ("/login?next=http://...") is fine.
			warn(kind, "takes a path on the service's address and port, not a URL: the check asks %s", chk.HTTP)
		}
		chk.Method = v.get(kind + "_method")
		chk.TLSSkipVerify = boolean("check_tls_skip_verify")
	case "check_script":
		args, err := shellSplit(val)
		if err != nil || len(args) == 0 {
			if err == nil {
				err = fmt.Errorf("no command")
			}
			warn(kind, "cannot split %q into arguments: %v; no check registered", val, err)
			return nil, nil, warns
		}
		for i, a := range args {
			a = strings.ReplaceAll(a, "$SERVICE_IP", host)
			args[i] = strings.ReplaceAll(a, "$SERVICE_PORT", strconv.Itoa(port))
		}
		chk.Args = args
	case "check_ttl":
		d := duration(kind)
		if d == "" {
			return nil, nil, warns
		}
		parsed, _ := time.ParseDuration(d)
		if parsed < minTTL {
			// drcon refreshes the check every third of its TTL.
			warn(kind, "%q is below %s, which is used instead", d, minTTL)
			parsed, d = minTTL, minTTL.String()
		}
		chk.TTL = d
		chk.Status = api.HealthPassing
		ttl = &ttlCheck{ID: chk.CheckID, Status: api.HealthPassing, Output: outputRunning, TTL: parsed}
		// A first status says the application will update the check, as
		// under registrator: drcon registers it so and leaves it alone.
		if s := initialStatus(); s != "" {
			chk.Status, ttl = s, nil
		}
	case "check_tcp":
		if !needsHost() {
			return nil, nil, warns
		}
		chk.TCP = addr
	case "check_grpc":
		if !needsHost() {
			return nil, nil, warns
		}
		chk.GRPC = addr
		chk.GRPCUseTLS = boolean("check_grpc_use_tls")
		// Only with TLS, as registrator set it: it means nothing without.
		chk.TLSSkipVerify = chk.GRPCUseTLS && boolean("check_tls_skip_verify")
	}
	if kind != "check_ttl" {
		chk.Interval = duration("check_interval")
		if chk.Interval == "" {
			chk.Interval = defaultInterval
		}
		// Script checks too: Consul bounds them with it (registrator set it
		// for HTTP and TCP only, and the label did nothing).
		chk.Timeout = duration("check_timeout")
		chk.Status = initialStatus()
	}
	chk.DeregisterCriticalServiceAfter = duration("check_deregister_after")
	return chk, ttl, warns
}

// checkKind is the kind of check a service gets: the first of checkKinds
// set for its port (SERVICE_<port>_CHECK_*), else the first set for every
// port. registrator ranked them all together, so that SERVICE_CHECK_HTTP
// for every port beat SERVICE_81_CHECK_TCP for the one that speaks no HTTP.
func checkKind(v view) string {
	for _, port := range []bool{true, false} {
		for _, k := range checkKinds {
			if val := v[k]; val.v != "" && val.port == port {
				return k
			}
		}
	}
	return ""
}

// durationKey is the value of key if it is a positive duration.
func durationKey(v view, key string) (string, []warning) {
	d := v.get(key)
	if d == "" {
		return "", nil
	}
	if parsed, err := time.ParseDuration(d); err != nil || parsed <= 0 {
		hint := ""
		// Only for a number alone: in "1h30" the missing unit is likelier
		// minutes than seconds.
		if withUnit, err := time.ParseDuration(d + "s"); err == nil && withUnit > 0 && strings.Trim(d, "0123456789.") == "" {
			hint = fmt.Sprintf(" (it needs a unit: %ss)", d)
		}
		return "", []warning{{src: v[key].src, msg: fmt.Sprintf("%q is not a positive duration%s; ignored", d, hint)}}
	}
	return d, nil
}

// dockerHealth is the TTL check that mirrors a container's HEALTHCHECK:
// healthy is passing; starting, unhealthy and anything else critical.
func dockerHealth(serviceID, status, deregisterAfter string) (*api.AgentServiceCheck, ttlCheck) {
	t := ttlCheck{
		ID:     healthCheckPrefix + serviceID,
		Status: api.HealthCritical,
		Output: "docker health: " + status,
		TTL:    healthTTL,
	}
	if status == "healthy" {
		t.Status = api.HealthPassing
	}
	return &api.AgentServiceCheck{
		CheckID:                        t.ID,
		Name:                           "Docker health",
		TTL:                            t.TTL.String(),
		Status:                         t.Status,
		DeregisterCriticalServiceAfter: deregisterAfter,
	}, t
}
