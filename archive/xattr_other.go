//go:build !linux

package archive

import "os"

func setSHA256Attr(*os.File, string) {}

func getSHA256Attr(string) string { return "" }

func setMetadataAttr(*os.File, map[string]string) {}

func getMetadataAttr(string) map[string]string { return nil }
