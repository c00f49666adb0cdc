// Package codec encrypts every Temporal payload Throughgate writes —
// workflow inputs, update arguments, activity inputs and results, query
// answers — with AES-256-GCM, so a case's history at rest in Temporal's
// database (or Temporal Cloud) is ciphertext. It is defence in depth: the
// workflows carry ids, dates and states only, never names, prison numbers,
// dates of birth or free text (docs/design.md, "Personal data"); ids and
// search attributes stay in clear, as Temporal needs them.
//
// Keys come from configuration (PAYLOAD_KEYS) with an id each, so they can
// rotate: new payloads are sealed with the first key, and any listed key
// opens the payloads it sealed. A payload written before encryption was
// turned on passes through unchanged.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Metadata of an encrypted payload.
const (
	encodingKey      = "encoding"
	encodingName     = "binary/encrypted"
	keyIDKey         = "encryption-key-id"
	cipherKey        = "encryption-cipher"
	cipherName       = "AES-256-GCM"
	maxKeys          = 16
	keyLengthInBytes = 32
)

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)

// Key is one named AES-256 key.
type Key struct {
	ID     string
	Secret []byte // 32 bytes
}

// ParseKeys reads PAYLOAD_KEYS: "id:base64,id:base64…", the first being the
// key new payloads are sealed with.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		id, b64, ok := strings.Cut(part, ":")
		if !ok || !keyIDPattern.MatchString(id) {
			return nil, errors.New("PAYLOAD_KEYS: each key is ID:BASE64 (an id of letters, digits, dots, dashes or underscores)")
		}
		secret, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(secret) != keyLengthInBytes {
			return nil, fmt.Errorf("PAYLOAD_KEYS: key %s must be 32 bytes in standard base64 (openssl rand -base64 32)", id)
		}
		if seen[id] {
			return nil, fmt.Errorf("PAYLOAD_KEYS: key id %s is listed twice", id)
		}
		seen[id] = true
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	if len(keys) > maxKeys {
		return nil, fmt.Errorf("PAYLOAD_KEYS: at most %d keys", maxKeys)
	}
	return keys, nil
}

// NewKey makes a random key, for a dev stack that keeps its own.
func NewKey(id string) (Key, error) {
	k := Key{ID: id, Secret: make([]byte, keyLengthInBytes)}
	_, err := rand.Read(k.Secret)
	return k, err
}

// String writes a key as PAYLOAD_KEYS lists it.
func (k Key) String() string { return k.ID + ":" + base64.StdEncoding.EncodeToString(k.Secret) }

// Codec is a converter.PayloadCodec sealing payloads with its first key.
type Codec struct {
	current string
	aeads   map[string]cipher.AEAD
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New makes a codec from one or more keys.
func New(keys []Key) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("codec: no key")
	}
	c := &Codec{current: keys[0].ID, aeads: map[string]cipher.AEAD{}}
	for _, k := range keys {
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("codec: key %s: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		c.aeads[k.ID] = aead
	}
	return c, nil
}

// Encode seals each payload: the whole payload (metadata and data) becomes
// the ciphertext, so not even its encoding shows.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.current]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, err
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		// The key id is authenticated with the data, so a payload cannot
		// be passed off under another key's name.
		sealed := aead.Seal(nonce, nonce, plain, []byte(c.current))
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{encodingKey: []byte(encodingName), keyIDKey: []byte(c.current), cipherKey: []byte(cipherName)},
			Data:     sealed,
		}
	}
	return out, nil
}

// Decode opens each sealed payload and passes any other through.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[encodingKey]) != encodingName {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[keyIDKey])
		aead, ok := c.aeads[id]
		if !ok {
			return nil, fmt.Errorf("codec: payload sealed with key %q, which PAYLOAD_KEYS does not list", id)
		}
		data := p.GetData()
		if len(data) < aead.NonceSize() {
			return nil, errors.New("codec: payload too short")
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("codec: payload sealed with key %q does not open: %w", id, err)
		}
		var decoded commonpb.Payload
		if err := proto.Unmarshal(plain, &decoded); err != nil {
			return nil, err
		}
		out[i] = &decoded
	}
	return out, nil
}

// DataConverter is Temporal's default data converter with the codec after it.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}
