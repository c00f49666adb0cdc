package config

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestEventSettings(t *testing.T) {
	secret := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes
	c, err := Load("api", nil, env(map[string]string{
		"EVENT_SOURCES":         " nomis:" + secret + ", delius:" + strings.TrimRight(secret, "="),
		"EVENT_TEAMS":           "PVI:pvi-resettlement,BXI:bxi-resettlement",
		"PRISONER_SEARCH_URL":   "https://prisoner-search.example.org/",
		"PRISONER_SEARCH_TOKEN": "token-1",
		"EVENT_HOLD":            "2h",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.EventSources) != 2 || c.EventSources[0].Name != "nomis" || string(c.EventSources[0].Secret) != "0123456789abcdef0123456789abcdef" ||
		c.EventSources[1].Name != "delius" || len(c.EventSources[1].Secret) != 32 {
		t.Errorf("sources %+v", c.EventSources)
	}
	if c.EventTeams["PVI"] != "pvi-resettlement" || c.EventTeams["BXI"] != "bxi-resettlement" || c.EventHold != 2*time.Hour {
		t.Errorf("teams %v, hold %s", c.EventTeams, c.EventHold)
	}
	var b bytes.Buffer
	c.Print(&b, "api")
	if strings.Contains(b.String(), secret) || strings.Contains(b.String(), "token-1") {
		t.Errorf("a secret is printed: %s", b.String())
	}

	def, err := Load("api", nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(def.EventSources) != 0 || def.EventHold != 24*time.Hour || def.PrisonerSearchURL != "" {
		t.Errorf("defaults %+v %s", def.EventSources, def.EventHold)
	}

	for name, bad := range map[string]map[string]string{
		"a short secret":          {"EVENT_SOURCES": "nomis:c2hvcnQ="},
		"a secret not base64":     {"EVENT_SOURCES": "nomis:not base64!"},
		"no secret":               {"EVENT_SOURCES": "nomis"},
		"a name with a colon":     {"EVENT_SOURCES": "NOMIS:" + secret},
		"a source twice":          {"EVENT_SOURCES": "nomis:" + secret + ",nomis:" + secret},
		"a team without a code":   {"EVENT_TEAMS": "pvi-resettlement"},
		"a prison named twice":    {"EVENT_TEAMS": "PVI:a,PVI:b"},
		"a lower-case code":       {"EVENT_TEAMS": "pvi:pvi-resettlement"},
		"a search URL with a ?":   {"PRISONER_SEARCH_URL": "https://x.example.org/?a=1"},
		"a search URL not http":   {"PRISONER_SEARCH_URL": "ftp://x.example.org"},
		"a token over plain http": {"PRISONER_SEARCH_URL": "http://x.example.org", "PRISONER_SEARCH_TOKEN": "t"},
		"a token with no URL":     {"PRISONER_SEARCH_TOKEN": "t"},
		"no hold":                 {"EVENT_HOLD": "0s"},
	} {
		if _, err := Load("api", nil, env(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Load("api", nil, env(map[string]string{"PRISONER_SEARCH_URL": "http://127.0.0.1:9999", "PRISONER_SEARCH_TOKEN": "t"})); err != nil {
		t.Errorf("a token over http to loopback: %v", err)
	}
}
