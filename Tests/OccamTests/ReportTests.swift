import Foundation
@testable import OccamExperiments
import Testing

@Suite("Report: SVG plots, CSV tables, the run store")
struct ReportTests {
    @Test func aReversedLogAxisPutsLargeValuesLeftWithDecadeTicks() {
        let axis = PlotAxis("weights remaining (%)", scale: .logarithmic, reversed: true, range: 3...100)
        let plot = LinePlot(title: "t", x: axis, y: PlotAxis("y", range: 0...1), series: [])
        #expect(plot.position(100, 0).x < plot.position(10, 0).x)
        #expect(abs(plot.position(100, 0).x - 78) < 1e-9)
        // Equal ratios take equal widths.
        let decade = plot.position(10, 0).x - plot.position(100, 0).x, half = plot.position(5, 0).x - plot.position(10, 0).x
        #expect(abs(half / decade - log10(2)) < 1e-9)
        #expect(axis.ticks(in: 3...100) == [5, 10, 20, 50, 100])
        #expect(PlotAxis("x").ticks(in: 0...1) == [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
        #expect(PlotAxis("x").ticks(in: 85.1...87.3) == [85.5, 86, 86.5, 87])
        let spawns = PlotAxis("spawn step", categories: ["0it", "100it", "2000it"])
        #expect(spawns.ticks(in: -0.5...2.5) == [0, 1, 2] && spawns.label(ofTick: 2) == "2000it")
    }

    @Test func theSVGHasTitleLabelsLegendAndErrorBarsAndSkipsUndrawablePoints() {
        let plot = LinePlot(
            title: "Accuracy <dense & sparse>", x: PlotAxis("weights remaining (%)", scale: .logarithmic, reversed: true),
            y: PlotAxis("test accuracy (%)"),
            series: [
                PlotSeries("ticket", points: [PlotPoint(x: 100, y: 88, error: 0.2), PlotPoint(x: 51.3, y: 88.4, error: 0.1), PlotPoint(x: 0, y: 80)]),
                PlotSeries("random \"reinit\"", points: [PlotPoint(x: 100, y: 88), PlotPoint(x: 51.3, y: .nan), PlotPoint(x: 21, y: 86)], dashed: true),
            ])
        let svg = plot.svg()
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.contains("Accuracy &lt;dense &amp; sparse&gt;") && svg.contains("random &quot;reinit&quot;"))
        #expect(svg.contains(">weights remaining (%)<") && svg.contains(">test accuracy (%)<") && svg.contains("rotate(-90"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 1)  // the NaN splits the dashed series into single points
        #expect(svg.components(separatedBy: "h8M").count - 1 == 2)  // two error bars
        #expect(!svg.lowercased().contains("nan") && !svg.contains("inf"))
        #expect(svg.hasSuffix("</svg>\n"))
    }

    @Test func csvFieldsWithSeparatorsAreQuoted() {
        let table = CSVTable(header: ["name", "value"], rows: [["a,b", "1"], ["say \"hi\"", "2"]])
        #expect(table.text == "name,value\n\"a,b\",1\n\"say \"\"hi\"\"\",2\n")
    }

    @Test func spreadIsTheMeanAndSampleStandardDeviation() throws {
        let spread = Spread([1, 2, 3, 4])
        #expect(spread.mean == 2.5 && abs(spread.standardDeviation - (5.0 / 3).squareRoot()) < 1e-15 && spread.count == 4)
        #expect(Spread([7]).standardDeviation.isNaN)  // one value has no spread (JSON null), not a spread of 0
        // No values (no validation split, so no early stopping): JSON null, read back as NaN.
        let json = try JSONEncoder().encode(Spread([]))
        #expect(String(decoding: json, as: UTF8.self).contains("\"mean\":null"))
        #expect(try JSONDecoder().decode(Spread.self, from: json).mean.isNaN)
    }

    @Test func aRunDirectoryIsNamedByItsConfigurationAndRefusesAnother() throws {
        let root = try makeTemporaryDirectory("run-store")
        defer { try? FileManager.default.removeItem(at: root) }
        let configuration = LotteryConfiguration(training: blobTraining())
        var other = configuration
        other.levels = 3
        let first = try RunStore.open(configuration, precision: "float64", under: root)
        #expect(try RunStore.open(configuration, precision: "float64", under: root).path == first.path)
        #expect(try RunStore.open(configuration, precision: "float32", under: root).path != first.path)
        #expect(try RunStore.open(other, precision: "float64", under: root).path != first.path)
        #expect(first.lastPathComponent.hasPrefix("lottery-mlp-fashion-mnist-"))
        #expect(try RunStore.experimentName(in: first) == "lottery")
        // A config.json edited by hand no longer matches its directory's hash.
        let url = first.appendingPathComponent("config.json")
        try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\"levels\" : 15", with: "\"levels\" : 4")
            .write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: RunStoreError.self) { try RunStore.open(configuration, precision: "float64", under: root) }
        #expect(throws: RunStoreError.self) { try RunStore.experimentName(in: root) }
    }
}
