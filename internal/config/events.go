package config

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// The settings of prison movement events (README.md, "Prison movement
// events"): who may send them, and where to look up what they leave out.

// EventSource is one sender of prison movement events and the secret it
// signs them with (EVENT_SOURCES).
type EventSource struct {
	Name   string
	Secret []byte
}

// minEventSecret is the shortest secret a source may have: 256 bits.
const minEventSecret = 32

var (
	sourceName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
	prisonCode = regexp.MustCompile(`^[A-Z]{3}$`)
	teamID     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

// ParseEventSources reads EVENT_SOURCES: NAME:BASE64SECRET, comma-separated.
// A name is lower-case letters, digits and dashes (it is named in the audit
// log as events:NAME); a secret at least 32 bytes once decoded.
func ParseEventSources(v string) ([]EventSource, error) {
	var out []EventSource
	seen := map[string]bool{}
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, secret, ok := strings.Cut(item, ":")
		if !ok || !sourceName.MatchString(name) {
			return nil, fmt.Errorf("EVENT_SOURCES: each source is NAME:BASE64SECRET, the name of lower-case letters, digits and dashes (up to 40)")
		}
		if seen[name] {
			return nil, fmt.Errorf("EVENT_SOURCES: source %s is named twice", name)
		}
		seen[name] = true
		b, err := base64.StdEncoding.DecodeString(secret)
		if err != nil {
			if b, err = base64.RawStdEncoding.DecodeString(secret); err != nil {
				return nil, fmt.Errorf("EVENT_SOURCES: the secret of source %s is not base64", name)
			}
		}
		if len(b) < minEventSecret {
			return nil, fmt.Errorf("EVENT_SOURCES: the secret of source %s is %d bytes; give it at least %d (openssl rand -base64 32)", name, len(b), minEventSecret)
		}
		out = append(out, EventSource{Name: name, Secret: b})
	}
	return out, nil
}

// ParseEventTeams reads EVENT_TEAMS: CODE:TEAM, comma-separated, the team
// that takes new cases at an establishment where several teams work.
func ParseEventTeams(v string) (map[string]string, error) {
	out := map[string]string{}
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		code, team, ok := strings.Cut(item, ":")
		if !ok || !prisonCode.MatchString(code) || !teamID.MatchString(team) {
			return nil, fmt.Errorf("EVENT_TEAMS: each entry is CODE:TEAM, a three-letter prison code and a team id, e.g. PVI:pvi-resettlement")
		}
		if _, dup := out[code]; dup {
			return nil, fmt.Errorf("EVENT_TEAMS: %s is named twice", code)
		}
		out[code] = team
	}
	return out, nil
}

// checkPrisonerSearch checks PRISONER_SEARCH_URL is an http(s) URL with
// no query, and that a token goes only over https (or to loopback).
func checkPrisonerSearch(rawURL, token string) error {
	if rawURL == "" {
		if token != "" {
			return fmt.Errorf("PRISONER_SEARCH_TOKEN is set but PRISONER_SEARCH_URL is not")
		}
		return nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("PRISONER_SEARCH_URL must be an http(s) URL with no query, such as https://prisoner-search.example.org")
	}
	if u.Scheme == "http" && token != "" && !loopbackHost(u.Hostname()) {
		return fmt.Errorf("PRISONER_SEARCH_URL must be https to send PRISONER_SEARCH_TOKEN (http only to a loopback host)")
	}
	return nil
}

func loopbackHost(h string) bool {
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
}
