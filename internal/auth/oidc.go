package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDC signs people in through the organisation's OpenID Connect provider
// (the authorisation code flow with PKCE, state and nonce). The provider's
// `email` claim names the member of staff; the account itself, its role and
// its team stay in Throughgate's directory, so the provider decides who a
// person is and Throughgate what they may see.
type OIDC struct {
	Issuer, ClientID, ClientSecret, RedirectURL string

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
	return cfg.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(pkceVerifier)), nil
}

// ErrNoEmail means the provider's ID token carried no usable email claim.
var ErrNoEmail = errors.New("the identity provider gave no verified email address")

// Exchange swaps the code for tokens, verifies the ID token (signature,
// issuer, audience, expiry and nonce) and returns its email claim.
func (o *OIDC) Exchange(ctx context.Context, code, pkceVerifier, nonce string) (string, error) {
	cfg, verifier, err := o.setup(ctx)
	if err != nil {
		return "", err
	}
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(pkceVerifier))
	if err != nil {
		return "", fmt.Errorf("exchanging the sign-in code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return "", errors.New("the identity provider returned no ID token")
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return "", fmt.Errorf("verifying the ID token: %w", err)
	}
	if idt.Nonce != nonce {
		return "", errors.New("the ID token's nonce does not match this sign-in")
	}
	var claims struct {
		Email    string `json:"email"`
		Verified *bool  `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil {
		return "", err
	}
	if claims.Email == "" || claims.Verified != nil && !*claims.Verified {
		return "", ErrNoEmail
	}
	return claims.Email, nil
}
