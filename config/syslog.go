package config

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Syslog sends the log to syslog as well as to stderr: consul-template's
// syslog {}, with an address added for a remote or non-default syslog.
type Syslog struct {
	Enabled  bool
	Facility string // LOCAL0 (default) ... LOCAL7, USER, DAEMON, ...
	Name     string // the tag of every message; default "drcon"
	// Address is "" for the local syslog (/dev/log), or
	// "udp://host:port", "tcp://host:port", "unix:///path" (a datagram
	// socket).
	Address string
}

// SyslogFacilities are the facility names syslog {} takes, as
// consul-template takes them (in any case).
var SyslogFacilities = []string{"KERN", "USER", "MAIL", "DAEMON", "AUTH", "SYSLOG", "LPR", "NEWS", "UUCP",
	"CRON", "AUTHPRIV", "FTP", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7"}

type rawSyslog struct {
	Enabled  *hcl.Attribute `hcl:"enabled,optional"`
	Facility *hcl.Attribute `hcl:"facility,optional"`
	Name     *hcl.Attribute `hcl:"name,optional"`
	Address  *hcl.Attribute `hcl:"address,optional"`
}

// SyslogOverrides are consul-template's -syslog flags.
type SyslogOverrides struct {
	Enabled  *bool  // -syslog
	Facility string // -syslog-facility
	Name     string // -syslog-name
}

// syslog reads syslog {} and the -syslog flags; as in consul-template, a
// facility or name turns it on unless enabled = false says otherwise.
func (l *loader) syslog(b *rawSyslog) Syslog {
	s := Syslog{Facility: "LOCAL0", Name: "drcon"}
	if b != nil {
		if l.str(b.Facility, &s.Facility) {
			s.Enabled = true
			if !validFacility(s.Facility) {
				l.errorf(b.Facility, "Invalid syslog facility", "%q is not one of %s.", s.Facility, strings.Join(SyslogFacilities, ", "))
			}
		}
		if l.str(b.Name, &s.Name) {
			s.Enabled = true
		}
		if l.str(b.Address, &s.Address) {
			s.Enabled = true
			if err := checkSyslogAddress(s.Address); err != nil {
				l.errorf(b.Address, "Invalid syslog address", "%s.", err)
			}
		}
		l.boolean(b.Enabled, &s.Enabled)
	}
	o := l.o.Syslog
	if o.Facility != "" {
		s.Facility, s.Enabled = o.Facility, true
		if !validFacility(o.Facility) {
			l.flagError("-syslog-facility", fmt.Errorf("%q is not one of %s", o.Facility, strings.Join(SyslogFacilities, ", ")))
		}
	}
	if o.Name != "" {
		s.Name, s.Enabled = o.Name, true
	}
	if o.Enabled != nil {
		s.Enabled = *o.Enabled
	}
	s.Facility = strings.ToUpper(s.Facility)
	return s
}

func validFacility(f string) bool {
	for _, v := range SyslogFacilities {
		if strings.EqualFold(f, v) {
			return true
		}
	}
	return false
}

// checkSyslogAddress accepts "", udp://host:port, tcp://host:port and
// unix:///path.
func checkSyslogAddress(a string) error {
	if a == "" {
		return nil
	}
	u, err := url.Parse(a)
	if err != nil {
		return fmt.Errorf("%q is not an address: %w", a, err)
	}
	switch u.Scheme {
	case "udp", "tcp":
		if u.Host == "" || u.Port() == "" {
			return fmt.Errorf("%q: want %s://host:port", a, u.Scheme)
		}
	case "unix":
		if u.Path == "" {
			return fmt.Errorf("%q: want unix:///path/of/the/socket", a)
		}
	default:
		return fmt.Errorf("%q: want udp://host:port, tcp://host:port or unix:///path", a)
	}
	return nil
}
