package main

// "Is anything of this person left?": the privacy page's residue search,
// erasure.Service.FindResidue over every bound table's text and JSON
// columns and every file key. It is the same search the verify pass runs
// after each erasure, here on demand, with holds and keep rules hiding
// nothing. The identifiers are posted (never put in a URL, which access
// logs keep) and not stored; the page shows where they were found (kind,
// record, column), never the values.

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// residuePage is what templates/residue.html shows.
type residuePage struct {
	// Email, Name and Phone are the identifiers searched for, shown
	// back in the form.
	Email, Name, Phone string
	// Searched is set once a search ran, so "nothing found" shows.
	Searched bool
	// Findings are where they were found.
	Findings []erasure.Finding
}

func (a *App) residueRoutes(m *http.ServeMux) {
	m.Handle("GET /privacy/residue", a.staff(false, func(w http.ResponseWriter, r *http.Request) {
		a.render(w, r, http.StatusOK, "residue", "Is anything of this person left?", residuePage{})
	}))
	m.Handle("POST /privacy/residue", a.staff(false, a.residueSearch))
}

func (a *App) residueSearch(w http.ResponseWriter, r *http.Request) {
	d := residuePage{Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Phone: strings.TrimSpace(r.PostFormValue("phone"))}
	var ids []erasure.Identifier
	for _, id := range []erasure.Identifier{{Kind: "email", Value: d.Email}, {Kind: "name", Value: d.Name}, {Kind: "phone", Value: d.Phone}} {
		if id.Value != "" {
			ids = append(ids, id)
		}
	}
	fs, err := a.kit.Erasure.FindResidue(r.Context(), a.acct, ids)
	if err != nil {
		if errors.Is(err, gdprkit.ErrInvalid) {
			a.render(w, r, http.StatusUnprocessableEntity, "residue", "Is anything of this person left?",
				errorData{msg: "Give an e-mail address, a name or a phone number of four characters or more.", D: d})
			return
		}
		a.serverError(w, r, err)
		return
	}
	d.Searched, d.Findings = true, fs
	a.render(w, r, http.StatusOK, "residue", "Is anything of this person left?", d)
}
