package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDC signs people in through the organisation's OpenID Connect provider
// (the authorisation code flow with PKCE, state and nonce). An account is
// the provider's (issuer, subject), linked at the person's first sign-in
// by an email claim the provider marks verified (email_verified true);
// after that only the subject finds the account, so an email address
// changed at the provider cannot reach another account. The account
// itself, its role and its team stay in Throughgate's directory: the
// provider decides who a person is and Throughgate what they may see.
type OIDC struct {
	Issuer, ClientID, ClientSecret, RedirectURL string
	// RequiredACR, when set, is asked of the provider (acr_values) and
	// must be the ID token's acr claim (OIDC_REQUIRED_ACR).
	RequiredACR string

	mu       sync.Mutex
	config   *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// setup discovers the provider once, at first use, so a provider that is
// down when Throughgate starts delays only sign-in, not the whole API.
func (o *OIDC) setup(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.config != nil {
		return o.config, o.verifier, nil
	}
	p, err := oidc.NewProvider(ctx, o.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("discovering the OpenID provider %s: %w", o.Issuer, err)
	}
	o.config = &oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: o.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email"}}
	o.verifier = p.Verifier(&oidc.Config{ClientID: o.ClientID})
	return o.config, o.verifier, nil
}

// AuthCodeURL is where to send the browser to sign in.
func (o *OIDC) AuthCodeURL(ctx context.Context, state, nonce, pkceVerifier string) (string, error) {
	cfg, _, err := o.setup(ctx)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(pkceVerifier)}
	if o.RequiredACR != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", o.RequiredACR))
	}
	return cfg.AuthCodeURL(state, opts...), nil
}

// Identity is who the provider says signed in.
type Identity struct {
	Issuer, Subject string
	// Email is the email claim; EmailVerified is true only when the
	// provider said email_verified true.
	Email         string
	EmailVerified bool
	ACR           string
}

// ErrACR means the ID token did not carry the acr OIDC_REQUIRED_ACR asks for
// (e.g. the person signed in without the provider's second factor).
var ErrACR = errors.New("the identity provider's sign-in was not of the required kind (acr)")

// Exchange swaps the code for tokens, verifies the ID token (signature,
// issuer, audience, expiry and nonce, and the acr when one is required)
// and returns who it names.
func (o *OIDC) Exchange(ctx context.Context, code, pkceVerifier, nonce string) (Identity, error) {
	var id Identity
	cfg, verifier, err := o.setup(ctx)
	if err != nil {
		return id, err
	}
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(pkceVerifier))
	if err != nil {
		return id, fmt.Errorf("exchanging the sign-in code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return id, errors.New("the identity provider returned no ID token")
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return id, fmt.Errorf("verifying the ID token: %w", err)
	}
	if idt.Nonce != nonce {
		return id, errors.New("the ID token's nonce does not match this sign-in")
	}
	var claims struct {
		Email    string `json:"email"`
		Verified *bool  `json:"email_verified"`
		ACR      string `json:"acr"`
	}
	if err := idt.Claims(&claims); err != nil {
		return id, err
	}
	if idt.Subject == "" {
		return id, errors.New("the ID token names no subject")
	}
	id = Identity{Issuer: idt.Issuer, Subject: idt.Subject, Email: claims.Email,
		EmailVerified: claims.Verified != nil && *claims.Verified, ACR: claims.ACR}
	if o.RequiredACR != "" && !acrAccepted(o.RequiredACR, claims.ACR) {
		return id, ErrACR
	}
	return id, nil
}

// acrAccepted reports whether acr is one of the required values (a
// space-separated list, as acr_values is).
func acrAccepted(required, acr string) bool {
	for _, v := range strings.Fields(required) {
		if acr == v {
			return true
		}
	}
	return false
}
