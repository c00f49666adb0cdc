// Package deploy holds Throughgate's deployment files and the tests that
// check them; it has no code of its own.
//
//	Dockerfile      the one image: `throughgate api`, `worker` and `migrate`
//	compose.yaml    one host: PostgreSQL, Temporal (schema job, server,
//	                namespace job, UI), migrate, the API and two workers;
//	                .env.example lists every setting it reads
//	postgres/       the roles and database PostgreSQL creates on first start
//	temporal/       the schema and namespace jobs' scripts, dynamic config
//	kubernetes/     the API and workers on Kubernetes (kustomization.yaml)
//	README.md       running it for real: build, compose, Kubernetes, TLS,
//	                backups, upgrades and rollbacks
//
// No Docker engine or cluster is needed to test them: deploy_test.go
// validates compose.yaml against the Compose specification's JSON schema
// (testdata/compose-spec, from github.com/compose-spec/compose-go/v2) and
// checks what each service needs (health checks that exist in their
// images, start-up order, every variable in .env.example);
// kubernetes_test.go decodes every manifest strictly into the Kubernetes
// API types and checks every pod's security settings, probes and network
// policy. Both check that every setting they pass to Throughgate is one
// the binary reads (internal/config).
package deploy
