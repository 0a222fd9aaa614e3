// Command crasher is a test service for the registrator's exit rules: it
// listens on :80 and exits with the code given by `POST /exit?code=N`. It
// ignores SIGHUP, as a server that reloads its configuration on HUP would,
// and SIGQUIT, as one that drains on it (nginx's stop signal) would until
// `docker stop` times out; it exits 0 on SIGTERM.
package main

import (
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	signal.Ignore(syscall.SIGHUP, syscall.SIGQUIT)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		<-term
		os.Exit(0)
	}()
	http.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.URL.Query().Get("code"))
		if err != nil || r.Method != http.MethodPost {
			http.Error(w, "POST /exit?code=N", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
		go func() {
			time.Sleep(50 * time.Millisecond)
			os.Exit(code)
		}()
	})
	srv := &http.Server{Addr: ":80", ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		os.Exit(1)
	}
}
