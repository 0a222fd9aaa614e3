package config

import (
	"net"
	"path/filepath"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// rawRegistrator is the schema of a registrator block. Its keys are
// gliderlabs/registrator's flags, spelled in HCL.
type rawRegistrator struct {
	Name     string    `hcl:"name,label"`
	DefRange hcl.Range `hcl:",def_range"`

	DockerHost       *hcl.Attribute `hcl:"docker_host,optional"`
	DockerTLS        *rawDockerTLS  `hcl:"docker_tls,block"`
	HostIP           *hcl.Attribute `hcl:"host_ip,optional"`
	Internal         *hcl.Attribute `hcl:"internal,optional"`
	Network          *hcl.Attribute `hcl:"network,optional"`
	Explicit         *hcl.Attribute `hcl:"explicit,optional"`
	UseIPFromLabel   *hcl.Attribute `hcl:"use_ip_from_label,optional"`
	Tags             *hcl.Attribute `hcl:"tags,optional"`
	Resync           *hcl.Attribute `hcl:"resync,optional"`
	Cleanup          *hcl.Attribute `hcl:"cleanup,optional"`
	Deregister       *hcl.Attribute `hcl:"deregister,optional"`
	DeregisterOnExit *hcl.Attribute `hcl:"deregister_on_exit,optional"`
	Health           *hcl.Attribute `hcl:"health,optional"`
	Filter           *hcl.Attribute `hcl:"filter,optional"`
	AddressFamily    *hcl.Attribute `hcl:"address_family,optional"`
}

type rawDockerTLS struct {
	CAFile   *hcl.Attribute `hcl:"ca_file,optional"`
	CertFile *hcl.Attribute `hcl:"cert_file,optional"`
	KeyFile  *hcl.Attribute `hcl:"key_file,optional"`
	Verify   *hcl.Attribute `hcl:"verify,optional"`
}

// registrator resolves one registrator block over the DOCKER_* environment.
func (l *loader) registrator(b *rawRegistrator) *Registrator {
	r := &Registrator{
		Name:          b.Name,
		DeclRange:     b.DefRange,
		DockerHost:    l.getenv("DOCKER_HOST"),
		DockerTLS:     l.dockerTLSEnv(),
		Cleanup:       true,
		Deregister:    "always",
		AddressFamily: "ipv4",
	}
	if r.Name == "" {
		l.errorAt(b.DefRange, "Empty registrator name", "Give the registrator a name, such as registrator \"docker\" {}.")
	}
	if r.DockerHost == "" {
		r.DockerHost = "unix:///var/run/docker.sock"
	}
	l.str(b.DockerHost, &r.DockerHost)
	if t := b.DockerTLS; t != nil {
		// A docker_tls block means TLS to a remote engine: verify the
		// engine's certificate unless told otherwise.
		r.DockerTLS.Verify = true
		l.str(t.CAFile, &r.DockerTLS.CAFile)
		l.str(t.CertFile, &r.DockerTLS.CertFile)
		l.str(t.KeyFile, &r.DockerTLS.KeyFile)
		l.boolean(t.Verify, &r.DockerTLS.Verify)
	}
	if l.str(b.HostIP, &r.HostIP) && r.HostIP != "" {
		switch ip := net.ParseIP(r.HostIP); {
		case ip == nil:
			l.errorf(b.HostIP, "Invalid host_ip", "%q is not an IP address.", r.HostIP)
		case ip.IsUnspecified():
			// Consul refuses it as a service address ("Invalid service
			// address"): every registration would fail.
			l.errorf(b.HostIP, "Invalid host_ip", "%q is no address a client can reach, and Consul refuses it for a service. "+
				"Leave host_ip unset to register each port at the address it is published on (the node's for 0.0.0.0).", r.HostIP)
		}
	}
	l.boolean(b.Internal, &r.Internal)
	l.str(b.Network, &r.Network)
	l.boolean(b.Explicit, &r.Explicit)
	l.str(b.UseIPFromLabel, &r.UseIPFromLabel)
	l.strList(b.Tags, &r.Tags)
	if l.duration(b.Resync, &r.Resync) && r.Resync > 0 && r.Resync < time.Second {
		// Every resync lists both sides; registrator's -resync counts seconds.
		l.errorf(b.Resync, "Invalid resync", "resync %s is less than 1s: write 1s or more, or 0 for no periodic reconcile.", r.Resync)
	}
	l.boolean(b.Cleanup, &r.Cleanup)
	l.enum(b.Deregister, &r.Deregister, "always", "on-success")
	l.boolean(b.DeregisterOnExit, &r.DeregisterOnExit)
	l.enum(b.Health, &r.Health, "", "docker")
	l.strMap(b.Filter, &r.Filter)
	l.enum(b.AddressFamily, &r.AddressFamily, "ipv4", "ipv6")
	return r
}

// dockerTLSEnv reads DOCKER_CERT_PATH and DOCKER_TLS_VERIFY as the docker
// CLI does: certificates are ca.pem, cert.pem and key.pem in the cert path
// (~/.docker when only DOCKER_TLS_VERIFY is set).
func (l *loader) dockerTLSEnv() DockerTLS {
	t := DockerTLS{Verify: l.getenv("DOCKER_TLS_VERIFY") != ""}
	dir := l.getenv("DOCKER_CERT_PATH")
	if dir == "" && t.Verify && l.getenv("HOME") != "" {
		dir = filepath.Join(l.getenv("HOME"), ".docker")
	}
	if dir != "" {
		t.CAFile = filepath.Join(dir, "ca.pem")
		t.CertFile = filepath.Join(dir, "cert.pem")
		t.KeyFile = filepath.Join(dir, "key.pem")
	}
	return t
}
