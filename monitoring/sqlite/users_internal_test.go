package sqlite

import (
	"testing"

	"golang.org/x/crypto/bcrypt"

	"cmdash/monitoring"
)

// An unknown user must cost as much to refuse as a wrong password.
func TestTheDummyHashCostsWhatAStoredPasswordCosts(t *testing.T) {
	t.Parallel()
	cost, err := bcrypt.Cost(dummyHash)
	if err != nil {
		t.Fatalf("dummyHash is not a bcrypt hash: %v", err)
	}
	if cost != bcrypt.DefaultCost {
		t.Errorf("dummyHash has cost %d, passwords are hashed at %d: refusing an unknown user would take another time", cost, bcrypt.DefaultCost)
	}
}

// Passwords are hashed at bcrypt.DefaultCost unless a test asks otherwise.
func TestPasswordsAreHashedAtTheDefaultCost(t *testing.T) {
	t.Parallel()
	s := openWallLinkStore(t)
	if _, err := s.CreateUser(t.Context(), "alice", "a long enough password", monitoring.Admin); err != nil {
		t.Fatal(err)
	}
	var hash []byte
	if err := s.db.QueryRowContext(t.Context(), `SELECT password_hash FROM users WHERE username = 'alice'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost(hash); err != nil || cost != bcrypt.DefaultCost {
		t.Errorf("stored at cost %d (%v), want %d", cost, err, bcrypt.DefaultCost)
	}
	if string(s.dummy()) != string(dummyHash) {
		t.Error("an unknown user is compared against another hash than dummyHash")
	}
}
