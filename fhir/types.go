package fhir

import (
	"sort"
	"sync"

	r4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
)

var (
	typesOnce sync.Once
	typeSet   map[string]bool
	typeList  []string
)

// loadTypes reads the R4 resource type names from google/fhir's
// ContainedResource oneof, so the list always matches what the validator knows.
func loadTypes() {
	typeSet = map[string]bool{}
	oneof := (&r4pb.ContainedResource{}).ProtoReflect().Descriptor().Oneofs().ByName("oneof_resource")
	fields := oneof.Fields()
	for i := 0; i < fields.Len(); i++ {
		name := string(fields.Get(i).Message().Name())
		typeSet[name] = true
		typeList = append(typeList, name)
	}
	sort.Strings(typeList)
}

// IsResourceType reports whether name is an R4 resource type.
func IsResourceType(name string) bool {
	typesOnce.Do(loadTypes)
	return typeSet[name]
}

// ResourceTypes lists every R4 resource type, sorted.
func ResourceTypes() []string {
	typesOnce.Do(loadTypes)
	return append([]string(nil), typeList...)
}
