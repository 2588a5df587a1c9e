package sqlite

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// An unknown user must cost as much to refuse as a wrong password.
func TestTheDummyHashCostsWhatAStoredPasswordCosts(t *testing.T) {
	cost, err := bcrypt.Cost(dummyHash)
	if err != nil {
		t.Fatalf("dummyHash is not a bcrypt hash: %v", err)
	}
	if cost != bcrypt.DefaultCost {
		t.Errorf("dummyHash has cost %d, passwords are hashed at %d: refusing an unknown user would take another time", cost, bcrypt.DefaultCost)
	}
}
