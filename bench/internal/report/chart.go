package report

import (
	"fmt"
	"image/color"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/athenaos/athena/bench/internal/result"
)

// Colours for the two comparisons; fixed so charts of different runs read
// alike.
var (
	colourBaseline = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colourRunc     = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
)

// Chart draws athena's cost relative to runsc-baseline and to runc for
// every benchmark as horizontal bars and writes a PNG to path, leaving out
// the informational rows (result.Benchmark.Info), which have no cost.
//
// The scale is logarithmic (bars are log10 of the cost, ticks labelled as
// ratios) because the ratios to runc span from about 1× to tens of ×, and
// on a log scale 0.5× and 2× are equally far from parity. Throughput rows
// are inverted (other/athena) so that right of 1× always means athena did
// worse; their labels say so.
func Chart(run *result.Run, path string) error {
	// Informational rows have no better direction, so no cost to plot.
	var bms []*result.Benchmark
	for i := range run.Benchmarks {
		if !run.Benchmarks[i].Info {
			bms = append(bms, &run.Benchmarks[i])
		}
	}
	n := len(bms)
	if n == 0 {
		return fmt.Errorf("chart: run has no benchmarks to chart")
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("athena's cost relative to other runtimes (median of %d rep(s), %s)", run.Reps, run.Date[:min(10, len(run.Date))])
	p.X.Label.Text = "athena / other: time, memory, or 1/throughput (right of 1× = athena worse)"

	// Row 0 is drawn at the bottom, so the first benchmark goes last to
	// keep the chart in the table's order, top to bottom. One empty row on
	// top holds the legend, which gonum draws inside the data area, so it
	// never covers a bar.
	names := make([]string, n+1)
	vsBase := make(plotter.Values, n+1)
	vsRunc := make(plotter.Values, n+1)
	var labBase, labRunc plotter.XYLabels
	lo, hi := 0.0, 0.0
	for i, bm := range bms {
		row := n - 1 - i
		names[row] = bm.Name
		if bm.HigherIsBetter {
			names[row] += " [1/x]"
		}
		for _, s := range []struct {
			other string
			vals  plotter.Values
			labs  *plotter.XYLabels
		}{{result.Baseline, vsBase, &labBase}, {result.Runc, vsRunc, &labRunc}} {
			c := bm.Cost(s.other)
			v, text := 0.0, "n/a"
			if !math.IsNaN(c) && !math.IsInf(c, 0) && c > 0 {
				v, text = math.Log10(c), ratioLabel(c)
			}
			s.vals[row] = v
			lo, hi = math.Min(lo, v), math.Max(hi, v)
			s.labs.XYs = append(s.labs.XYs, plotter.XY{X: math.Max(v, 0), Y: float64(row)})
			s.labs.Labels = append(s.labs.Labels, text)
		}
	}

	barW := vg.Points(7)
	base, err := plotter.NewBarChart(vsBase, barW)
	if err != nil {
		return err
	}
	runc, err := plotter.NewBarChart(vsRunc, barW)
	if err != nil {
		return err
	}
	for _, b := range []*plotter.BarChart{base, runc} {
		b.Horizontal = true
		b.LineStyle.Width = 0
	}
	base.Color, runc.Color = colourBaseline, colourRunc
	// Baseline above runc within each row (Y grows upwards).
	base.Offset, runc.Offset = barW/2, -barW/2

	grid := plotter.NewGrid()
	grid.Horizontal.Width = 0 // vertical lines only, at the ratio ticks
	p.Add(grid, base, runc)
	for _, l := range []struct {
		xy  plotter.XYLabels
		off vg.Length
	}{{labBase, barW / 2}, {labRunc, -barW / 2}} {
		labels, err := plotter.NewLabels(l.xy)
		if err != nil {
			return err
		}
		for i := range labels.TextStyle {
			labels.TextStyle[i].Font.Size = vg.Points(6.5)
			labels.TextStyle[i].YAlign = draw.YCenter
		}
		labels.Offset = vg.Point{X: vg.Points(3), Y: l.off}
		p.Add(labels)
	}
	p.Legend.Add("athena / runsc-baseline", base)
	p.Legend.Add("athena / runc", runc)
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	p.NominalY(names...)

	// Leave room right of the longest bar for its label.
	p.X.Min = math.Min(lo, -0.3) - 0.05
	p.X.Max = hi + 0.12*(hi-p.X.Min) + 0.15
	p.X.Tick.Marker = ratioTicks{}

	h := vg.Length(n+1)*vg.Points(20) + vg.Inch*1.2
	return savePNG(p, 9*vg.Inch, h, path)
}

// savePNG draws p with a margin: gonum sizes the left axis from its own
// text metrics and clipped the longest benchmark names by a few pixels.
func savePNG(p *plot.Plot, w, h vg.Length, path string) error {
	img := vgimg.New(w, h)
	dc := draw.New(img)
	pad := vg.Points(12)
	p.Draw(draw.Crop(dc, pad, -pad, pad/2, -pad/2))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ratioTicks labels a log10 axis with the ratios themselves.
type ratioTicks struct{}

func (ratioTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for _, r := range []float64{0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000} {
		if v := math.Log10(r); v >= min && v <= max {
			ticks = append(ticks, plot.Tick{Value: v, Label: ratioLabel(r)})
		}
	}
	return ticks
}

func ratioLabel(r float64) string {
	if r >= 10 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.2g×", r)
}
