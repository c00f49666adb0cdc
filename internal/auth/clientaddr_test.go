package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestClientAddress(t *testing.T) {
	proxies := MustTrustedProxies("10.0.0.0/8, 192.168.1.1, 2001:db8:1::/48")
	for _, c := range []struct {
		name    string
		trusted TrustedProxies
		remote  string
		headers map[string][]string
		want    string
	}{
		{"no proxies: the peer", nil, "203.0.113.9:4000", nil, "203.0.113.9"},
		{"no proxies: headers ignored", nil, "203.0.113.9:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}, "X-Real-Ip": {"198.51.100.2"}, "True-Client-Ip": {"198.51.100.3"}}, "203.0.113.9"},
		{"untrusted peer: its X-Forwarded-For ignored", proxies, "203.0.113.9:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.9"},
		{"trusted peer: X-Real-IP and True-Client-IP still ignored", proxies, "10.0.0.5:4000",
			map[string][]string{"X-Real-Ip": {"198.51.100.2"}, "True-Client-Ip": {"198.51.100.3"}}, "10.0.0.5"},
		{"trusted peer: the hop it saw", proxies, "10.0.0.5:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"trusted peer: the right-most untrusted hop, not the forged left", proxies, "10.0.0.5:4000",
			map[string][]string{"X-Forwarded-For": {"1.2.3.4, 198.51.100.1"}}, "198.51.100.1"},
		{"a chain of trusted proxies is skipped", proxies, "10.0.0.5:4000",
			map[string][]string{"X-Forwarded-For": {"6.6.6.6, 198.51.100.1, 192.168.1.1, 10.9.9.9"}}, "198.51.100.1"},
		{"several header lines are one list", proxies, "10.0.0.5:4000",
			map[string][]string{"X-Forwarded-For": {"6.6.6.6, 198.51.100.1", "10.9.9.9"}}, "198.51.100.1"},
		{"a single address as a /32", proxies, "192.168.1.1:80",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"next to a single trusted address is untrusted", proxies, "192.168.1.2:80",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "192.168.1.2"},
		{"hops with ports and IPv6 brackets", proxies, "10.0.0.5:4000",
			map[string][]string{"X-Forwarded-For": {"[2001:db8:2::7]:443, 10.1.1.1:80"}}, "2001:db8:2::7"},
		{"IPv6 proxy", proxies, "[2001:db8:1::5]:4000",
			map[string][]string{"X-Forwarded-For": {"2001:db8:2::7"}}, "2001:db8:2::7"},
		{"IPv4-mapped IPv6 peer matches the IPv4 range", proxies, "[::ffff:10.0.0.5]:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"garbage where a hop should be: the last trusted hop", proxies, "10.0.0.5:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1, not-an-address"}}, "10.0.0.5"},
		{"garbage left of the client does not matter", proxies, "10.0.0.5:4000",
			map[string][]string{"X-Forwarded-For": {"<script>, 198.51.100.1"}}, "198.51.100.1"},
		{"empty entries skipped", proxies, "10.0.0.5:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1, , "}}, "198.51.100.1"},
		{"every hop trusted: the left-most", proxies, "10.0.0.5:4000",
			map[string][]string{"X-Forwarded-For": {"10.3.3.3, 10.4.4.4"}}, "10.3.3.3"},
		{"trusted peer with no header: the peer", proxies, "10.0.0.5:4000", nil, "10.0.0.5"},
		{"a peer without a port", proxies, "203.0.113.9", nil, "203.0.113.9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.trusted.ClientAddress(c.remote, c.headers["X-Forwarded-For"]); got != c.want {
				t.Errorf("ClientAddress = %q, want %q", got, c.want)
			}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = c.remote
			for k, vs := range c.headers {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			var seen string
			c.trusted.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = ClientIP(r) })).
				ServeHTTP(httptest.NewRecorder(), req)
			if seen != c.want {
				t.Errorf("ClientIP behind the middleware = %q, want %q", seen, c.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.0.0.0/8 ,192.168.1.1,, 2001:db8::/32 ")
	if err != nil || len(got) != 3 || got[1].String() != "192.168.1.1/32" {
		t.Fatalf("%v %v", got, err)
	}
	if got, err := ParseTrustedProxies(""); err != nil || len(got) != 0 {
		t.Errorf("empty: %v %v", got, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example.org", "10.0.0.1/8/8", "0.0.0.0/0", "::/0"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
