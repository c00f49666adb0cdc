package devstack

import (
	"context"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
)

// DemoPassword is the password of every demonstration account that `throughgate
// dev` creates. It is printed in dev's banner: never use these accounts with
// real data.
const DemoPassword = "throughgate-demo"

// DemoAccounts are the demonstration accounts, one per role, by staff id.
var DemoAccounts = []struct{ ID, Email, Role string }{
	{"officer-1", "olu.officer@pvi.example.org", "officer at Pentonville (PVI)"},
	{"officer-2", "bea.officer@bxi.example.org", "officer at Brixton (BXI)"},
	{"manager-1", "mo.manager@pvi.example.org", "manager of the Pentonville team"},
	{"manager-2", "nell.manager@bxi.example.org", "manager of the Brixton team"},
	{"head-1", "hana.head@london.example.org", "head of service over both teams"},
	{"admin-1", "ade.admin@london.example.org", "administrator: staff, teams and audit"},
}

// SeedDemo creates the demonstration teams and staff the dev stack runs
// with: two prisons' resettlement teams, an officer each, their manager and
// a head of service. It is idempotent, and only dev calls it.
func SeedDemo(ctx context.Context, db *postgres.DB) error {
	staff := []postgres.Staff{
		{ID: "officer-1", Name: "Olu Officer", Email: "olu.officer@pvi.example.org", Role: "officer", Team: "pvi-resettlement", Active: true},
		{ID: "officer-2", Name: "Bea Officer", Email: "bea.officer@bxi.example.org", Role: "officer", Team: "bxi-resettlement", Active: true},
		{ID: "manager-1", Name: "Mo Manager", Email: "mo.manager@pvi.example.org", Role: "manager", Team: "pvi-resettlement", Active: true},
		{ID: "manager-2", Name: "Nell Manager", Email: "nell.manager@bxi.example.org", Role: "manager", Team: "bxi-resettlement", Active: true},
		{ID: "head-1", Name: "Hana Head", Email: "hana.head@london.example.org", Role: "head", Active: true},
		{ID: "admin-1", Name: "Ade Admin", Email: "ade.admin@london.example.org", Role: "admin", Active: true},
	}
	teams := []postgres.Team{
		{ID: "pvi-resettlement", Name: "Pentonville resettlement", Establishment: "PVI", Email: "resettlement@pvi.example.org", Manager: "manager-1", Head: "head-1", Active: true},
		{ID: "bxi-resettlement", Name: "Brixton resettlement", Establishment: "BXI", Email: "resettlement@bxi.example.org", Manager: "manager-2", Head: "head-1", Active: true},
	}
	hash, err := auth.HashPassword(DemoPassword)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *postgres.DB) error {
		for _, t := range teams {
			if err := tx.PutTeam(ctx, t); err != nil {
				return err
			}
		}
		for _, s := range staff {
			if err := tx.PutStaff(ctx, s); err != nil {
				return err
			}
			// Demo passwords only where none is set, so a changed one stays.
			has, err := tx.HasPassword(ctx, s.ID)
			if err != nil {
				return err
			}
			if !has {
				if err := tx.SetPassword(ctx, s.ID, hash); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
