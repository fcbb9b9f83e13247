// Command gocheck cross-checks inspecta.ledger against the Go reference
// implementation (golang.org/x/mod/sumdb/note and sumdb/tlog), CONTRACT §5.
//
// It reads one JSON request on stdin and writes one JSON response on stdout.
// Byte strings are base64 (encoding/json's []byte encoding). Build offline with
// GO111MODULE=off GOPATH=/usr/share/gocode (Debian golang-golang-x-mod-dev).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusionReq struct {
	Index    int64    `json:"index"`
	Size     int64    `json:"size"`
	LeafHash []byte   `json:"leaf_hash"`
	Root     []byte   `json:"root"`
	Proof    [][]byte `json:"proof"`
}

type consistencyReq struct {
	Size1 int64    `json:"size1"`
	Size2 int64    `json:"size2"`
	Root1 []byte   `json:"root1"`
	Root2 []byte   `json:"root2"`
	Proof [][]byte `json:"proof"`
}

type request struct {
	VerifierKey string           `json:"verifier_key"`
	SignerKey   string           `json:"signer_key"`
	SignText    string           `json:"sign_text"`
	Notes       []string         `json:"notes"`
	Leaves      [][]byte         `json:"leaves"`
	RootSizes   []int64          `json:"root_sizes"`
	ProveRecord [][2]int64       `json:"prove_record"` // [index, size]
	ProveTree   [][2]int64       `json:"prove_tree"`   // [size1, size2]
	Inclusion   []inclusionReq   `json:"inclusion"`
	Consistency []consistencyReq `json:"consistency"`
}

type noteResp struct {
	Error   string   `json:"error"`
	Text    string   `json:"text"`
	Signers []string `json:"signers"`
	Origin  string   `json:"origin"`
	Size    int64    `json:"size"`
	Root    []byte   `json:"root"`
}

type response struct {
	VerifierName string     `json:"verifier_name"`
	VerifierHash uint32     `json:"verifier_hash"`
	Signed       string     `json:"signed"`
	Notes        []noteResp `json:"notes"`
	Roots        [][]byte   `json:"roots"`
	RecordProofs [][][]byte `json:"record_proofs"`
	TreeProofs   [][][]byte `json:"tree_proofs"`
	Inclusion    []string   `json:"inclusion"`
	Consistency  []string   `json:"consistency"`
}

func toHash(b []byte) (tlog.Hash, error) {
	var h tlog.Hash
	if len(b) != tlog.HashSize {
		return h, fmt.Errorf("hash of %d bytes", len(b))
	}
	copy(h[:], b)
	return h, nil
}

func toHashes(bs [][]byte) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(bs))
	for i, b := range bs {
		h, err := toHash(b)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

func fromHashes(hs []tlog.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		h := hs[i]
		out[i] = h[:]
	}
	return out
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// parseCheckpoint parses the C2SP tlog-checkpoint lines with the Go tlog hash parser.
func parseCheckpoint(text string, r *noteResp) error {
	lines := strings.Split(text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return fmt.Errorf("checkpoint: too few lines")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return fmt.Errorf("checkpoint: bad size %q", lines[1])
	}
	h, err := tlog.ParseHash(lines[2])
	if err != nil {
		return fmt.Errorf("checkpoint: %v", err)
	}
	r.Origin, r.Size, r.Root = lines[0], n, h[:]
	return nil
}

func run(req request) (response, error) {
	var resp response

	verifier, err := note.NewVerifier(req.VerifierKey)
	if err != nil {
		return resp, fmt.Errorf("verifier key: %v", err)
	}
	resp.VerifierName, resp.VerifierHash = verifier.Name(), verifier.KeyHash()

	if req.SignerKey != "" {
		signer, err := note.NewSigner(req.SignerKey)
		if err != nil {
			return resp, fmt.Errorf("signer key: %v", err)
		}
		msg, err := note.Sign(&note.Note{Text: req.SignText}, signer)
		if err != nil {
			return resp, fmt.Errorf("sign: %v", err)
		}
		resp.Signed = string(msg)
	}

	resp.Notes = []noteResp{}
	for _, msg := range req.Notes {
		var r noteResp
		n, err := note.Open([]byte(msg), note.VerifierList(verifier))
		if err == nil {
			r.Text = n.Text
			for _, s := range n.Sigs {
				r.Signers = append(r.Signers, s.Name)
			}
			err = parseCheckpoint(n.Text, &r)
		}
		r.Error = errString(err)
		resp.Notes = append(resp.Notes, r)
	}

	// Build a tlog store from the raw entries, as the Go sum database does.
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("no stored hash %d", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, data := range req.Leaves {
		hs, err := tlog.StoredHashes(int64(i), data, reader)
		if err != nil {
			return resp, err
		}
		stored = append(stored, hs...)
	}
	resp.Roots = [][]byte{}
	for _, n := range req.RootSizes {
		h, err := tlog.TreeHash(n, reader)
		if err != nil {
			return resp, err
		}
		resp.Roots = append(resp.Roots, h[:])
	}
	resp.RecordProofs = [][][]byte{}
	for _, p := range req.ProveRecord {
		proof, err := tlog.ProveRecord(p[1], p[0], reader)
		if err != nil {
			return resp, err
		}
		resp.RecordProofs = append(resp.RecordProofs, fromHashes(proof))
	}
	resp.TreeProofs = [][][]byte{}
	for _, p := range req.ProveTree {
		proof, err := tlog.ProveTree(p[1], p[0], reader)
		if err != nil {
			return resp, err
		}
		resp.TreeProofs = append(resp.TreeProofs, fromHashes(proof))
	}

	resp.Inclusion = []string{}
	for _, c := range req.Inclusion {
		err := func() error {
			leaf, err := toHash(c.LeafHash)
			if err != nil {
				return err
			}
			root, err := toHash(c.Root)
			if err != nil {
				return err
			}
			proof, err := toHashes(c.Proof)
			if err != nil {
				return err
			}
			return tlog.CheckRecord(proof, c.Size, root, c.Index, leaf)
		}()
		resp.Inclusion = append(resp.Inclusion, errString(err))
	}
	resp.Consistency = []string{}
	for _, c := range req.Consistency {
		err := func() error {
			root1, err := toHash(c.Root1)
			if err != nil {
				return err
			}
			root2, err := toHash(c.Root2)
			if err != nil {
				return err
			}
			proof, err := toHashes(c.Proof)
			if err != nil {
				return err
			}
			return tlog.CheckTree(proof, c.Size2, root2, c.Size1, root1)
		}()
		resp.Consistency = append(resp.Consistency, errString(err))
	}
	return resp, nil
}

func main() {
	var req request
	dec := json.NewDecoder(os.Stdin)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "gocheck: bad request:", err)
		os.Exit(2)
	}
	resp, err := run(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gocheck:", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(resp); err != nil {
		fmt.Fprintln(os.Stderr, "gocheck:", err)
		os.Exit(1)
	}
}
