import { expect } from "chai";
import { escapeXml, issuanceChartSvg, niceTicks } from "../../lib/chart";
import { DEFAULT_SCHEDULE_PARAMS, scheduleFromParams } from "../../lib/issuance";

const GENESIS = Date.UTC(2026, 10, 30, 5, 0, 0) / 1000;

describe("lib/chart", function () {
  const s = scheduleFromParams(DEFAULT_SCHEDULE_PARAMS);
  const svg = issuanceChartSvg(s, GENESIS);

  it("produces a self-contained SVG document", function () {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).to.equal(true);
    expect(svg.trimEnd().endsWith("</svg>")).to.equal(true);
    expect(svg).to.match(/viewBox="0 0 \d+ \d+"/);
    // No external resources, scripts or web fonts.
    expect(svg).not.to.match(/<script|href=|@import|url\(|<image|@font-face/i);
    // Balanced tags: every opened element is closed.
    const opened = (svg.match(/<[a-z][^>]*>/g) ?? []).filter((t) => !t.endsWith("/>")).length;
    const closed = (svg.match(/<\/[a-z]+>/g) ?? []).length;
    expect(opened).to.equal(closed);
    // No NaN/Infinity leaking into coordinates.
    expect(svg).not.to.match(/NaN|Infinity|undefined/);
  });

  it("has a title, both series, both axes and a legend", function () {
    expect(svg).to.include("<title>DIMO issuance schedule</title>");
    expect((svg.match(/<polyline /g) ?? []).length).to.equal(2); // weekly step line + cumulative line
    expect(svg).to.include("<polygon "); // weekly area
    expect(svg).to.include("Weekly issuance (DIMO per week)");
    expect(svg).to.include("Cumulative issuance (million DIMO)");
    expect(svg).to.include("Years since genesis (2026-11-30)");
    expect(svg).to.include("year 1: 1,300,029 DIMO per week");
    expect(svg).to.include("total 450,000,000 DIMO");
    expect(svg).to.include(">1,400,000</text>"); // left axis top tick
    expect(svg).to.include(">500</text>"); // right axis top tick (million DIMO)
    expect(svg).to.include(">40</text>"); // last year tick
  });

  it("is deterministic", function () {
    expect(issuanceChartSvg(scheduleFromParams(DEFAULT_SCHEDULE_PARAMS), GENESIS)).to.equal(svg);
  });

  it("draws the cumulative line up to the schedule total", function () {
    const cumulative = /<polyline points="([^"]+)" fill="none" stroke="#d95f02"/.exec(svg);
    expect(cumulative).to.not.equal(null);
    const points = cumulative![1].split(" ").map((p) => p.split(",").map(Number));
    expect(points).to.have.length(41); // year boundaries 0..40
    const ys = points.map(([, y]) => y);
    for (let i = 1; i < ys.length; i++) expect(ys[i] <= ys[i - 1]).to.equal(true); // rising (SVG y grows down)
  });

  it("copes with tiny and flat schedules", function () {
    const tiny = scheduleFromParams({
      pool: 0n,
      firstWeekly: 5n * 10n ** 17n,
      years: 3,
      weeksPerYear: 2,
      decayBps: 9999,
    });
    const t = issuanceChartSvg(tiny, GENESIS, { title: "Tiny <test> & co" });
    expect(t).to.include("<title>Tiny &lt;test&gt; &amp; co</title>");
    expect(t).to.include("year 1: 0.5 DIMO per week");
    expect(t).to.include("Cumulative issuance (DIMO)");
    expect(t).not.to.match(/NaN|Infinity|undefined/);
    const flat = scheduleFromParams({ pool: 10n ** 27n, years: 200, weeksPerYear: 1, decayBps: 0 });
    expect(issuanceChartSvg(flat, GENESIS)).not.to.match(/NaN|Infinity|undefined/);
    const empty = scheduleFromParams({ pool: 0n, years: 1, weeksPerYear: 1, decayBps: 0 });
    expect(issuanceChartSvg(empty, GENESIS)).not.to.match(/NaN|Infinity|undefined/);
  });

  it("niceTicks and escapeXml", function () {
    expect(niceTicks(1_300_030, 7)).to.deep.include({ step: 200_000, max: 1_400_000 });
    expect(niceTicks(450, 7)).to.deep.include({ step: 100, max: 500 });
    expect(niceTicks(0).max).to.be.greaterThan(0);
    expect(niceTicks(0.5, 5).values).to.deep.equal([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(escapeXml(`a<b>&"c"`)).to.equal("a&lt;b&gt;&amp;&quot;c&quot;");
  });
});
