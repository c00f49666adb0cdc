package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/config"
)

// temporalConfig loads a worker's settings from env alone, as the process
// would.
func temporalConfig(t *testing.T, env map[string]string) config.Config {
	t.Helper()
	env["DATABASE_URL"] = "postgres://tg@db/tg"
	cfg, err := config.Load("worker", nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A Temporal Cloud namespace with an API key: the key becomes credentials
// and TLS is on, verifying the server against the system's roots with no
// client certificate.
func TestTemporalOptionsAPIKey(t *testing.T) {
	for _, tlsSetting := range []string{"", "true"} {
		env := map[string]string{"TEMPORAL_ADDRESS": "eu-west-2.aws.api.temporal.io:7233",
			"TEMPORAL_NAMESPACE": "throughgate.a1b2c", "TEMPORAL_API_KEY": "key-123"}
		if tlsSetting != "" {
			env["TEMPORAL_TLS"] = tlsSetting
		}
		opts, err := TemporalOptions(temporalConfig(t, env))
		if err != nil {
			t.Fatal(err)
		}
		if opts.HostPort != "eu-west-2.aws.api.temporal.io:7233" || opts.Namespace != "throughgate.a1b2c" {
			t.Errorf("TEMPORAL_TLS=%q: address %q namespace %q", tlsSetting, opts.HostPort, opts.Namespace)
		}
		if opts.Credentials == nil {
			t.Errorf("TEMPORAL_TLS=%q: no credentials for the API key", tlsSetting)
		}
		tc := opts.ConnectionOptions.TLS
		if tc == nil || opts.ConnectionOptions.TLSDisabled {
			t.Fatalf("TEMPORAL_TLS=%q: TLS off with an API key", tlsSetting)
		}
		if tc.RootCAs != nil || len(tc.Certificates) != 0 || tc.InsecureSkipVerify || tc.MinVersion != tls.VersionTLS12 {
			t.Errorf("TEMPORAL_TLS=%q: want the system's roots, no client certificate, verification on, TLS 1.2 at least: %+v", tlsSetting, tc)
		}
	}
}

// TLS with the system's roots and no client certificate, without an API
// key (a cluster behind a public certificate); and nothing at all by default.
func TestTemporalOptionsTLS(t *testing.T) {
	opts, err := TemporalOptions(temporalConfig(t, map[string]string{"TEMPORAL_TLS": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	if tc := opts.ConnectionOptions.TLS; tc == nil || tc.RootCAs != nil || len(tc.Certificates) != 0 || opts.Credentials != nil {
		t.Errorf("TEMPORAL_TLS=true: %+v, credentials %v", tc, opts.Credentials)
	}

	opts, err = TemporalOptions(temporalConfig(t, map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if opts.ConnectionOptions.TLS != nil || opts.Credentials != nil || opts.HostPort != "127.0.0.1:7233" || opts.Namespace != "default" {
		t.Errorf("defaults: %+v", opts)
	}

	opts, err = TemporalOptions(temporalConfig(t, map[string]string{"TEMPORAL_API_KEY": "key-123", "TEMPORAL_TLS": "false"}))
	if err != nil {
		t.Fatal(err)
	}
	if !opts.ConnectionOptions.TLSDisabled || opts.Credentials == nil {
		t.Errorf("TEMPORAL_TLS=false with an API key: TLS disabled %t, credentials %v", opts.ConnectionOptions.TLSDisabled, opts.Credentials)
	}
}

// mTLS: the client certificate and key, the CA and the server name.
func TestTemporalOptionsMutualTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCertificate(t, dir)
	opts, err := TemporalOptions(temporalConfig(t, map[string]string{
		"TEMPORAL_TLS_CLIENT_CERT_PATH": cert, "TEMPORAL_TLS_CLIENT_KEY_PATH": key,
		"TEMPORAL_TLS_SERVER_CA_CERT_PATH": cert, "TEMPORAL_TLS_SERVER_NAME": "temporal.internal"}))
	if err != nil {
		t.Fatal(err)
	}
	tc := opts.ConnectionOptions.TLS
	if tc == nil || len(tc.Certificates) != 1 || tc.RootCAs == nil || tc.ServerName != "temporal.internal" || opts.Credentials != nil {
		t.Fatalf("mTLS: %+v", tc)
	}

	_, err = TemporalOptions(temporalConfig(t, map[string]string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": filepath.Join(dir, "missing.pem")}))
	if err == nil || !strings.Contains(err.Error(), "TEMPORAL_TLS_*") {
		t.Errorf("missing CA file: %v", err)
	}
}

// writeCertificate writes a self-signed certificate and its key as PEM.
func writeCertificate(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "throughgate-worker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}
