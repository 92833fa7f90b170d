package engine

import (
	"github.com/hearth-fhir/hearth/fhir/search"
)

// index extracts a resource's search index rows, for every search
// parameter of its type in the R4 registry. It runs once per write, outside
// the transaction, on the body as it will be stored (meta.versionId and
// meta.lastUpdated change afterwards, and neither is indexed: _lastUpdated
// is a column of the resource row).
func (e *Engine) index(typ string, body []byte) (search.Index, error) {
	return e.registry.Index(typ, body, e.cfg.BaseURL)
}
