package drill

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"sync"
	"time"

	"github.com/throughgate/throughgate/internal/devsmtp"
)

// Relay is the SMTP relay of the topology: the development SMTP server on a
// fixed loopback port, with STARTTLS required (a certificate from a CA of
// the harness's own, which the processes trust through SMTP_TLS_CA) and
// AUTH required, as a production relay has them. It can be stopped and
// started again on the same port; Messages returns what every run received.
type Relay struct {
	Addr               string
	Port               int
	Username, Password string
	CAFile             string // PEM of the CA that signed the certificate

	tls  *tls.Config
	mu   sync.Mutex
	runs []*devsmtp.Server
	cur  *devsmtp.Server
}

// StartRelay makes the certificate, writes its CA to dir/smtp-ca.pem and
// starts the relay on a free port.
func StartRelay(dir string) (*Relay, error) {
	cfg, caPEM, err := relayTLS()
	if err != nil {
		return nil, err
	}
	r := &Relay{tls: cfg, CAFile: dir + "/smtp-ca.pem", Username: "throughgate-drill"}
	pw := make([]byte, 12)
	_, _ = rand.Read(pw)
	r.Password = hex.EncodeToString(pw)
	if err := os.WriteFile(r.CAFile, caPEM, 0o644); err != nil {
		return nil, err
	}
	r.Port, err = freePort()
	if err != nil {
		return nil, err
	}
	r.Addr = fmt.Sprintf("127.0.0.1:%d", r.Port)
	return r, r.Start()
}

// Start starts (or starts again) the relay on its port.
func (r *Relay) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur != nil {
		return nil
	}
	var s *devsmtp.Server
	var err error
	// The port was just released by the last run: retry briefly.
	for range 50 {
		s, err = devsmtp.Start(devsmtp.Options{Addr: r.Addr, Username: r.Username, Password: r.Password, TLS: r.tls, RequireTLS: true})
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("starting the SMTP relay on %s: %w", r.Addr, err)
	}
	r.cur = s
	r.runs = append(r.runs, s)
	return nil
}

// Stop stops the relay: connections are refused until Start.
func (r *Relay) Stop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil {
		return nil
	}
	err := r.cur.Close()
	r.cur = nil
	return err
}

// Up reports whether the relay is running.
func (r *Relay) Up() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur != nil
}

// Messages is every message every run of the relay received, oldest first.
func (r *Relay) Messages() []devsmtp.Message {
	r.mu.Lock()
	runs := append([]*devsmtp.Server(nil), r.runs...)
	r.mu.Unlock()
	var out []devsmtp.Message
	for _, s := range runs {
		out = append(out, s.Messages()...)
	}
	return out
}

// relayTLS makes a CA and a certificate for 127.0.0.1 and localhost signed
// by it, and returns the server's TLS configuration and the CA's PEM.
func relayTLS() (*tls.Config, []byte, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Throughgate drill CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der, caDER}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	return cfg, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), nil
}

// freeLowPort finds a free loopback port below 32768: Temporal keeps its
// services' membership ports in a smallint column.
func freeLowPort() (int, error) {
	for range 200 {
		b := make([]byte, 2)
		_, _ = rand.Read(b)
		p := 20000 + int(b[0])<<8 | int(b[1])
		p = 20000 + p%12000
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			ln.Close()
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free port between 20000 and 32000")
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
