package loadgen

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// CheckLoopback refuses a URL whose host is not a loopback address or
// "localhost": load tests on these machines target 127.0.0.1 only, and a
// mistyped URL must not point a load generator at somebody's server.
func CheckLoopback(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%s %q: want an http:// or https:// URL", what, raw)
	}
	return checkHost(what, u.Hostname())
}

// CheckLoopbackHost is CheckLoopback for a bare host name or address; a
// Unix socket directory (a path) is local too.
func CheckLoopbackHost(what, host string) error {
	if strings.HasPrefix(host, "/") {
		return nil
	}
	return checkHost(what, host)
}

func checkHost(what, host string) error {
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s host %q is not loopback; load tests here target 127.0.0.1 only (--allow-remote overrides)", what, host)
}
