package engine

import (
	"encoding/base64"
	"encoding/json"
	"mime"

	"github.com/hearth-fhir/hearth/fhir"
)

// withID sets the id of a conditional update's body to the resource the
// criteria resolved to; a different id already there is an error.
func withID(body []byte, id string) ([]byte, error) {
	obj, err := fhir.ParseObject(body)
	if err != nil {
		return nil, err
	}
	if have, ok := obj.String("id"); ok && have != id {
		return nil, fhir.Errorf(fhir.KindInvalid, "id %q does not match the resource the criteria found", have).At("id")
	}
	idJSON, _ := json.Marshal(id)
	obj.Set("id", idJSON)
	return obj.Bytes(), nil
}

// patchFromBinary extracts a JSON Patch from the Binary resource a Bundle
// carries it in (Bundle entries can only hold resources).
func patchFromBinary(body []byte) ([]byte, error) {
	var bin struct {
		ResourceType string `json:"resourceType"`
		ContentType  string `json:"contentType"`
		Data         string `json:"data"`
	}
	if err := json.Unmarshal(body, &bin); err != nil || bin.ResourceType != "Binary" {
		return nil, fhir.Errorf(fhir.KindInvalid, "a PATCH entry carries its patch in a Binary resource")
	}
	mt, _, _ := mime.ParseMediaType(bin.ContentType)
	if mt != "application/json-patch+json" {
		return nil, fhir.Errorf(fhir.KindUnsupportedMedia, "PATCH entries support application/json-patch+json only").At("contentType")
	}
	patch, err := base64.StdEncoding.DecodeString(bin.Data)
	if err != nil {
		return nil, fhir.Errorf(fhir.KindInvalid, "Binary.data is not base64").At("data")
	}
	return patch, nil
}
