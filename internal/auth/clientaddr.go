package auth

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies are the reverse proxies in front of Throughgate
// (TRUSTED_PROXIES), whose X-Forwarded-For is believed. Nobody else's is:
// a client can send any header it likes.
type TrustedProxies []netip.Prefix

// ParseTrustedProxies reads a comma-separated list of CIDRs (10.0.0.0/8,
// 2001:db8::/48); a bare address means that one address. A range that
// takes in every address is refused: it would believe every client.
func ParseTrustedProxies(s string) (TrustedProxies, error) {
	var out TrustedProxies
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		var p netip.Prefix
		var err error
		if strings.Contains(part, "/") {
			p, err = netip.ParsePrefix(part)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(part); err == nil {
				a = a.Unmap()
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR range such as 10.0.0.0/8", part)
		}
		if p.Bits() == 0 {
			return nil, fmt.Errorf("%q trusts every address: list the proxies' own addresses", part)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// MustTrustedProxies is ParseTrustedProxies for tests and constants.
func MustTrustedProxies(s string) TrustedProxies {
	t, err := ParseTrustedProxies(s)
	if err != nil {
		panic(err)
	}
	return t
}

func (t TrustedProxies) trusts(a netip.Addr) bool {
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop reads one address as a peer or an X-Forwarded-For entry gives
// it: 192.0.2.1, 192.0.2.1:443, 2001:db8::1 or [2001:db8::1]:443.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// ClientAddress is the address a request came from. It is the direct
// peer (remoteAddr), unless the peer is a trusted proxy: then it is the
// right-most X-Forwarded-For hop that is not a trusted proxy. Hops left of
// that one were written by the client and prove nothing. forwardedFor is
// every X-Forwarded-For line of the request, in order. X-Real-IP,
// True-Client-IP and Forwarded are never read.
func (t TrustedProxies) ClientAddress(remoteAddr string, forwardedFor []string) string {
	peer, ok := parseHop(remoteAddr)
	if !ok {
		host, _, err := net.SplitHostPort(remoteAddr)
		if err != nil {
			return remoteAddr
		}
		return host
	}
	if !t.trusts(peer) {
		return peer.String()
	}
	var hops []string
	for _, line := range forwardedFor {
		hops = append(hops, strings.Split(line, ",")...)
	}
	client := peer // the nearest hop known to be one of ours
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		a, ok := parseHop(h)
		if !ok {
			// A trusted proxy wrote this; it should be an address. Believe
			// nothing further left: the last trusted hop stands in.
			return client.String()
		}
		if !t.trusts(a) {
			return a.String()
		}
		client = a
	}
	return client.String()
}

type clientAddrKey struct{}

// Middleware works out each request's client address once (ClientAddress)
// and keeps it in the request's context for ClientIP.
func (t TrustedProxies) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := t.ClientAddress(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientAddrKey{}, addr)))
	})
}

// ClientIP is the address a request came from, for the audit and the
// sign-in rate limit: what Middleware worked out, or the direct peer for
// a request that did not pass it.
func ClientIP(r *http.Request) string {
	if a, ok := r.Context().Value(clientAddrKey{}).(string); ok {
		return a
	}
	return TrustedProxies(nil).ClientAddress(r.RemoteAddr, nil)
}
