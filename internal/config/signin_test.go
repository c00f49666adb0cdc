package config

import (
	"strings"
	"testing"
)

// The client address is believed from X-Forwarded-For only when the peer
// is a proxy listed in TRUSTED_PROXIES; the old switch that believed the
// header from anyone is refused, saying what replaces it.
func TestTrustedProxiesAndRequiredACR(t *testing.T) {
	c, err := Load("api", nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 0 || c.OIDCRequiredACR != "" {
		t.Errorf("defaults: %v %q", c.TrustedProxies, c.OIDCRequiredACR)
	}
	c, err = Load("api", nil, env(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1", "OIDC_REQUIRED_ACR": "urn:example:mfa"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[1].String() != "192.168.1.1/32" || c.OIDCRequiredACR != "urn:example:mfa" {
		t.Errorf("got %v %q", c.TrustedProxies, c.OIDCRequiredACR)
	}
	for _, bad := range []string{"10.0.0.0/33", "0.0.0.0/0", "proxy.internal"} {
		if _, err := Load("api", nil, env(map[string]string{"TRUSTED_PROXIES": bad})); err == nil || !strings.Contains(err.Error(), "TRUSTED_PROXIES") {
			t.Errorf("TRUSTED_PROXIES=%s: %v", bad, err)
		}
	}
	if _, err := Load("api", nil, env(map[string]string{"TRUST_PROXY_HEADERS": "true"})); err == nil || !strings.Contains(err.Error(), "TRUSTED_PROXIES") {
		t.Errorf("TRUST_PROXY_HEADERS=true: %v", err)
	}
	if _, err := Load("api", nil, env(map[string]string{"TRUST_PROXY_HEADERS": "false"})); err != nil {
		t.Errorf("TRUST_PROXY_HEADERS=false: %v", err)
	}
}
