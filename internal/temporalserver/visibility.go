package temporalserver

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/log/tag"
	temporalschema "go.temporal.io/server/schema"
	sqltool "go.temporal.io/server/tools/sql"
)

// pgVisibilitySchemaFile is the visibility schema the store's versioned
// updates arrive at: the definitions of the indexes indexUsedColumns keeps.
const pgVisibilitySchemaFile = pgVisibilitySchemaDir + "/schema.sql"

// customIndexRe finds the index of each column Temporal keeps for custom
// search attributes (Keyword01–10, Int01–03, Text01–03 and so on): its
// name, its column and the whole statement.
var customIndexRe = regexp.MustCompile(`(?m)^CREATE INDEX (by_(?:bool|datetime|double|int|keyword|keyword_list|text)_\d\d)\s+ON executions_visibility (?:USING GIN )?\(namespace_id, (\w+)[^;]*;`)

// customIndex is one custom column's index in the visibility schema.
type customIndex struct{ name, column, create string }

// customIndexes reads them from the schema Temporal ships.
func customIndexes() ([]customIndex, error) {
	b, err := fs.ReadFile(temporalschema.Assets(), pgVisibilitySchemaFile)
	if err != nil {
		return nil, err
	}
	var out []customIndex
	for _, m := range customIndexRe.FindAllStringSubmatch(string(b), -1) {
		out = append(out, customIndex{name: m[1], column: m[2],
			create: strings.Replace(m[0], "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no custom search attribute index in %s", pgVisibilitySchemaFile)
	}
	return out, nil
}

// indexUsedColumns keeps an index on the visibility table's custom columns
// that a namespace's search attribute is mapped to, and drops it from the
// others. Temporal's PostgreSQL schema indexes all 28 of them, and every
// visibility write (a start, an upsert of a search attribute, a close)
// rewrites the row and each of its 73 indexes, with two identifiers of 64
// characters in every entry: at 30,000 cases that was about 22 KB a
// workflow, most of the PostgreSQL data of `throughgate dev`. The cases use
// seven columns; the other 21 are empty. A column mapped later (a new
// search attribute) gets its index back at the next start. Queries stay
// right without an index, only slower. Only for the embedded server's own
// PostgreSQL store: a production cluster's schema is its operator's.
//
// TestCustomIndexesAreOnlyCreated checks that no versioned update of the
// schema names these indexes except to create them, so that a later
// server's updates still apply to a store without them.
func (s *Server) indexUsedColumns(ctx context.Context) error {
	if s.opts.Store != StorePostgres {
		return nil
	}
	indexes, err := customIndexes()
	if err != nil {
		return err
	}
	used := map[string]bool{}
	var next []byte
	for {
		resp, err := s.client.WorkflowService().ListNamespaces(ctx, &workflowservice.ListNamespacesRequest{PageSize: 100, NextPageToken: next})
		if err != nil {
			return fmt.Errorf("listing namespaces: %w", err)
		}
		for _, ns := range resp.GetNamespaces() {
			for column := range ns.GetConfig().GetCustomSearchAttributeAliases() {
				used[strings.ToLower(column)] = true
			}
		}
		if next = resp.GetNextPageToken(); len(next) == 0 {
			break
		}
	}
	rec := &errorRecorder{Logger: s.logger}
	conn, err := sqltool.NewConnection(s.opts.pgSQL(s.opts.VisibilityDatabaseName, 1), rec)
	if err != nil {
		return rec.explain(err)
	}
	defer conn.Close()
	var kept []string
	for _, ix := range indexes {
		stmt := "DROP INDEX IF EXISTS " + ix.name
		if used[strings.ToLower(ix.column)] {
			stmt = ix.create
			kept = append(kept, ix.column)
		}
		if err := conn.Exec(stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, rec.explain(err))
		}
	}
	s.logger.Info("visibility indexes on custom search attributes", tag.NewStringsTag("kept", slices.Sorted(slices.Values(kept))),
		tag.NewInt("dropped", len(indexes)-len(kept)))
	return nil
}
