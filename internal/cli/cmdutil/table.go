package cmdutil

import (
	"fmt"
	"io"
	"strings"
)

// Table writes rows as columns two spaces apart, padded to the widest
// cell, without trailing blanks. Every cell is made printable first (cells
// often come from brokers). paint, when not nil, may colour a cell of row
// r, column c after its width was taken; row 0 is the header.
func Table(w io.Writer, rows [][]string, paint func(r, c int, cell string) string) error {
	if len(rows) == 0 {
		return nil
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			row[i] = Printable(cell)
			widths[i] = max(widths[i], len([]rune(row[i])))
		}
	}
	for r, row := range rows {
		var line strings.Builder
		for c, cell := range row {
			pad := ""
			if c < len(row)-1 {
				pad = strings.Repeat(" ", widths[c]-len([]rune(cell))+2)
			}
			if paint != nil {
				cell = paint(r, c, cell)
			}
			line.WriteString(cell + pad)
		}
		if _, err := fmt.Fprintln(w, strings.TrimRight(line.String(), " ")); err != nil {
			return err
		}
	}
	return nil
}
