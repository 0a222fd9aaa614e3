package demo

import "strings"

// Paths are what the stack puts in place of the system paths and ports
// that the examples name, so that the examples stay as users install them
// (/etc/nginx, port 80, Consul on 8500) and the stack still runs beside a
// user's own nginx and Consul.
type Paths struct {
	Nginx      string // stands for /etc/nginx: the nginx prefix
	Haproxy    string // stands for /etc/haproxy
	ConsulAddr string // stands for 127.0.0.1:8500
	StatusAddr string // stands for 127.0.0.1:8090
	ProxyAddr  string // loopback host:port that stands for port 80
}

// Rewrite returns an example file with the system paths and ports replaced.
// Nothing else changes: what the stack runs is what users install.
func (p Paths) Rewrite(text string) string {
	return strings.NewReplacer(
		"127.0.0.1:8500", p.ConsulAddr,
		"127.0.0.1:8090", p.StatusAddr,
		"/etc/nginx/", p.Nginx+"/",
		"/run/nginx.pid", p.Nginx+"/nginx.pid",
		"/var/log/nginx/", p.Nginx+"/logs/",
		"listen 80;", "listen "+p.ProxyAddr+";",
		"listen 80 ", "listen "+p.ProxyAddr+" ",
		// nginx's temp files go to paths compiled into the binary; the
		// stack keeps them under its own prefix like everything else.
		"http {\n", "http {\n"+nginxTempPaths(p.Nginx),
		"/etc/haproxy/", p.Haproxy+"/",
		"bind :80", "bind "+p.ProxyAddr,
		// haproxy runs in master-worker mode without systemd: USR2 to the
		// master is what `systemctl reload haproxy` sends.
		"systemctl reload haproxy", "kill -USR2 $(cat "+p.Haproxy+"/haproxy.pid)",
	).Replace(text)
}

func nginxTempPaths(prefix string) string {
	var b strings.Builder
	for _, kind := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		b.WriteString("  " + kind + "_temp_path " + prefix + "/tmp/" + kind + ";\n")
	}
	return b.String()
}
