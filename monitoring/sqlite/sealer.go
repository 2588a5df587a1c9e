package sqlite

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Sealer encrypts secrets at rest (API keys, cached tokens) with AES-256-GCM.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer derives the 256-bit key from secret: 64 hex digits are used as
// the key itself, anything else is hashed with SHA-256.
func NewSealer(secret string) (*Sealer, error) {
	secret = strings.TrimSpace(secret)
	if len(secret) < 16 {
		return nil, errors.New("secret must be at least 16 characters")
	}
	key, err := hex.DecodeString(secret)
	if err != nil || len(key) != 32 {
		sum := sha256.Sum256([]byte(secret))
		key = sum[:]
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// LoadOrCreateKeyFile reads the key in path, creating it (32 random bytes,
// hex, mode 0600) when it does not exist. created reports a new file.
func LoadOrCreateKeyFile(path string) (secret string, created bool, err error) {
	data, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(data)), false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("read key file: %w", err)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", false, fmt.Errorf("generate key: %w", err)
	}
	secret = hex.EncodeToString(buf)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return "", false, fmt.Errorf("write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", false, fmt.Errorf("write key file: %w", err)
	}
	return secret, true, nil
}

// Seal encrypts plaintext; aad binds the ciphertext to its row and column so
// it cannot be moved to another account.
func (s *Sealer) Seal(plaintext, aad []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return s.aead.Seal(nonce, nonce, plaintext, aad)
}

// Open decrypts what Seal produced.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed value too short")
	}
	out, err := s.aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, errors.New("cannot decrypt: wrong DASHBOARD_SECRET or key file?")
	}
	return out, nil
}
