import { expect } from "chai";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { getAddress, ZeroAddress } from "ethers";
import { InputError } from "../../lib/errors";
import {
  formatRegistrySnapshot,
  parseRegistrySnapshot,
  type RegistryEvent,
  RegistryReplay,
  RegistryReplayError,
  replayRegistryEvents,
  SNAPSHOT_COLUMNS,
  type VehicleSnapshotRow,
} from "../../lib/registry-snapshot";

const ALICE = getAddress("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
const BOB = getAddress("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");
const CAROL = getAddress("0x90f79bf6eb2c4f870365e785982e1f101e93b906");
const SMARTCAR = getAddress("0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc");
const SMARTCAR2 = getAddress("0x14dc79964da2c08b23698b3d3cc7ca32193d9955");
const TESLA = getAddress("0x976ea74026e726554db657fa54763abd0c3a0aa9");
const MANUFACTURER = getAddress("0x15d34aaf54267db7d7c367839aaf71a00a2c6a65");
const HEADER = SNAPSHOT_COLUMNS.join(",");

/** Builds events in chain order: each call is one log; `block()` moves to the next block. */
function chain() {
  const events: RegistryEvent[] = [];
  let blockNumber = 10;
  let logIndex = 0;
  type Body = RegistryEvent extends infer E
    ? E extends RegistryEvent
      ? Omit<E, "blockNumber" | "logIndex">
      : never
    : never;
  const push = (e: Body) => events.push({ ...e, blockNumber, logIndex: logIndex++ } as RegistryEvent);
  const minted = new Set<bigint>();
  const approved = new Set<string>();
  return {
    events,
    /** The DAO grants (or revokes) an integration role: kind 1 software, 2 OEM. */
    role(integration: string, kind: number, held = true) {
      approved.add(`${integration}:${kind}`);
      push({ name: "IntegrationRoleChanged", integration, kind, held });
    },
    manufacturer(manufacturer: string, held = true) {
      push({ name: "ManufacturerRoleChanged", manufacturer, held });
    },
    device(deviceId: bigint, manufacturer = MANUFACTURER) {
      minted.add(deviceId);
      push({ name: "DeviceMinted", deviceId, manufacturer });
    },
    block() {
      blockNumber++;
      logIndex = 0;
    },
    mint(vehicleId: bigint, owner: string, make: string, model: string, year: number, powertrain: number) {
      push({ name: "Transfer", vehicleId, from: ZeroAddress, to: owner });
      push({ name: "VehicleMinted", vehicleId, owner, make, model, year, powertrain });
    },
    transfer(vehicleId: bigint, from: string, to: string, cleared: { device?: bigint; integrations?: string[] } = {}) {
      push({ name: "Transfer", vehicleId, from, to });
      if (cleared.device !== undefined) push({ name: "DeviceUnpaired", vehicleId, deviceId: cleared.device });
      for (const integration of cleared.integrations ?? []) push({ name: "ConnectionRemoved", vehicleId, integration });
    },
    /** Pairs, minting the device first (by MANUFACTURER) when this stream has not minted it yet. */
    pair(vehicleId: bigint, deviceId: bigint) {
      if (!minted.has(deviceId)) this.device(deviceId);
      push({ name: "DevicePaired", vehicleId, deviceId });
    },
    unpair(vehicleId: bigint, deviceId: bigint) {
      push({ name: "DeviceUnpaired", vehicleId, deviceId });
    },
    /** Attests a connection, granting the integration its role first when this stream has not yet. */
    connect(vehicleId: bigint, integration: string, kind: number) {
      if (!approved.has(`${integration}:${kind}`)) this.role(integration, kind);
      push({ name: "ConnectionAttested", vehicleId, integration, kind });
    },
    disconnect(vehicleId: bigint, integration: string) {
      push({ name: "ConnectionRemoved", vehicleId, integration });
    },
  };
}

/** Three vehicles: transfers, unpairs and removals on the way. */
function scenario() {
  const c = chain();
  c.manufacturer(MANUFACTURER);
  c.mint(1n, ALICE, "Tesla", "Model 3", 2022, 3);
  c.block();
  c.mint(2n, BOB, "Toyota", "Prius, Prime", 2019, 2);
  c.pair(1n, 7n);
  c.connect(1n, TESLA, 2);
  c.connect(1n, SMARTCAR, 1);
  c.block();
  c.mint(3n, ALICE, "Ford", "F-150", 1999, 0);
  c.connect(2n, SMARTCAR, 1);
  c.connect(2n, SMARTCAR2, 1);
  c.pair(2n, 8n);
  c.block();
  // Vehicle 1 changes hands: the registry unpairs and disconnects it in the same transaction.
  c.transfer(1n, ALICE, CAROL, { device: 7n, integrations: [SMARTCAR, TESLA] });
  c.pair(3n, 7n);
  c.unpair(2n, 8n);
  c.disconnect(2n, SMARTCAR);
  c.block();
  c.connect(1n, SMARTCAR, 1);
  return c.events;
}

const EXPECTED_CSV = [
  HEADER,
  `1,${CAROL},BEV,Tesla,Model 3,2022,,software`,
  `2,${BOB},PHEV,Toyota,"Prius, Prime",2019,,software`,
  `3,${ALICE},ICE,Ford,F-150,1999,7,`,
  "",
].join("\n");

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}

describe("lib/registry-snapshot", function () {
  describe("replay", function () {
    it("follows mints, pairings, connections, transfers, unpairs and removals", function () {
      expect(replayRegistryEvents(scenario())).to.deep.equal([
        {
          vehicleId: 1n,
          owner: CAROL,
          powertrain: "BEV",
          make: "Tesla",
          model: "Model 3",
          year: 2022,
          pairedDevice: null,
          connectionKinds: ["software"],
        },
        {
          vehicleId: 2n,
          owner: BOB,
          powertrain: "PHEV",
          make: "Toyota",
          model: "Prius, Prime",
          year: 2019,
          pairedDevice: null,
          connectionKinds: ["software"],
        },
        {
          vehicleId: 3n,
          owner: ALICE,
          powertrain: "ICE",
          make: "Ford",
          model: "F-150",
          year: 1999,
          pairedDevice: 7n,
          connectionKinds: [],
        },
      ]);
    });

    it("gives the state at any earlier point when replaying a prefix", function () {
      const events = scenario().filter((e) => e.blockNumber <= 12);
      const rows = replayRegistryEvents(events);
      expect(rows.map((r) => [r.vehicleId, r.owner, r.pairedDevice, r.connectionKinds])).to.deep.equal([
        [1n, ALICE, 7n, ["oem", "software"]],
        [2n, BOB, 8n, ["software", "software"]],
        [3n, ALICE, null, []],
      ]);
    });

    it("sorts events into (block, logIndex) order, whatever order they arrive in", function () {
      const events = scenario();
      const shuffled = [...events].reverse();
      expect(replayRegistryEvents(shuffled)).to.deep.equal(replayRegistryEvents(events));
    });

    it("applies page after page like one stream, and refuses events out of order", function () {
      const events = scenario();
      const replay = new RegistryReplay();
      replay.applyAll(events.slice(0, 5));
      replay.applyAll(events.slice(5));
      expect(replay.rows()).to.deep.equal(replayRegistryEvents(events));
      expect(() => replay.apply(events[3])).to.throw(RegistryReplayError, /out of order/);
    });

    it("fails loudly on a stream that misses the beginning (e.g. replayed from a wrong block)", function () {
      const events = scenario().filter((e) => e.blockNumber >= 11);
      const e = errorOf(() => replayRegistryEvents(events));
      expect(e).to.be.instanceOf(RegistryReplayError);
      expect(e.message).to.equal(
        "block 11 log 3 DevicePaired of vehicle 1: no such vehicle (was it minted before the first block read?)",
      );
    });

    it("rejects inconsistent events", function () {
      const bad = (build: (c: ReturnType<typeof chain>) => void) => {
        const c = chain();
        c.mint(1n, ALICE, "Tesla", "Model 3", 2022, 3);
        build(c);
        return errorOf(() => replayRegistryEvents(c.events)).message;
      };
      expect(bad((c) => c.mint(1n, BOB, "X", "Y", 2000, 0))).to.match(/vehicle already minted/);
      expect(bad((c) => c.mint(2n, BOB, "X", "Y", 2000, 4))).to.match(/unknown powertrain 4/);
      expect(bad((c) => c.transfer(1n, BOB, CAROL))).to.match(/transfer from .* but the owner is/);
      expect(bad((c) => (c.pair(1n, 1n), c.pair(1n, 2n)))).to.match(/already paired with device 1/);
      expect(bad((c) => c.unpair(1n, 1n))).to.match(/device 1 is not paired \(paired: none\)/);
      expect(bad((c) => (c.connect(1n, TESLA, 2), c.connect(1n, TESLA, 2)))).to.match(/already connected/);
      expect(bad((c) => c.connect(1n, TESLA, 0))).to.match(/unknown connection kind 0/);
      expect(bad((c) => c.disconnect(1n, TESLA))).to.match(/is not connected/);
    });

    describe("when a role is revoked (L-5)", function () {
      /** Vehicle 1 with a software and an OEM connection and a paired device. */
      function equipped() {
        const c = chain();
        c.manufacturer(MANUFACTURER);
        c.mint(1n, ALICE, "Tesla", "Model 3", 2022, 3);
        c.connect(1n, SMARTCAR, 1);
        c.connect(1n, TESLA, 2);
        c.pair(1n, 7n);
        c.block();
        return c;
      }

      it("stops counting the connections of an integration that lost its role, from that block on", function () {
        const c = equipped();
        const before = c.events.length;
        c.role(SMARTCAR, 1, false);
        expect(replayRegistryEvents(c.events.slice(0, before))[0].connectionKinds).to.deep.equal(["oem", "software"]);
        expect(replayRegistryEvents(c.events)[0].connectionKinds).to.deep.equal(["oem"]);
      });

      it("counts them again once the DAO re-grants the role (the connection was never removed on chain)", function () {
        const c = equipped();
        c.role(SMARTCAR, 1, false);
        c.block();
        c.role(SMARTCAR, 1, true);
        expect(replayRegistryEvents(c.events)[0].connectionKinds).to.deep.equal(["oem", "software"]);
      });

      it("counts a connection by the role of its own kind: an OEM connection stops when only the OEM role goes", function () {
        const c = equipped();
        c.role(TESLA, 1, true); // Tesla also becomes a software integration
        c.role(TESLA, 2, false);
        expect(replayRegistryEvents(c.events)[0].connectionKinds).to.deep.equal(["software"]);
      });

      it("drops the paired device of a manufacturer that lost MANUFACTURER_ROLE", function () {
        const c = equipped();
        c.manufacturer(MANUFACTURER, false);
        expect(replayRegistryEvents(c.events)[0].pairedDevice).to.equal(null);
        c.manufacturer(MANUFACTURER, true);
        expect(replayRegistryEvents(c.events)[0].pairedDevice).to.equal(7n);
      });

      it("writes the dropped connection and device out of the CSV", function () {
        const c = equipped();
        c.role(TESLA, 2, false);
        c.manufacturer(MANUFACTURER, false);
        expect(formatRegistrySnapshot(replayRegistryEvents(c.events))).to.equal(
          `${HEADER}\n1,${ALICE},BEV,Tesla,Model 3,2022,,software\n`,
        );
      });
    });

    it("refuses a pairing of a device the stream never minted, and a connection of an integration without its role", function () {
      const c = chain();
      c.mint(1n, ALICE, "Tesla", "Model 3", 2022, 3);
      const base = c.events.length;
      c.events.push({ name: "DevicePaired", vehicleId: 1n, deviceId: 9n, blockNumber: 99, logIndex: 0 });
      expect(errorOf(() => replayRegistryEvents(c.events)).message).to.equal(
        "block 99 log 0 DevicePaired of vehicle 1: device 9 was never minted (are the DeviceRegistry's events missing?)",
      );
      c.events.splice(base);
      c.events.push({
        name: "ConnectionAttested",
        vehicleId: 1n,
        integration: TESLA,
        kind: 2,
        blockNumber: 99,
        logIndex: 0,
      });
      expect(errorOf(() => replayRegistryEvents(c.events)).message).to.equal(
        `block 99 log 0 ConnectionAttested of vehicle 1: ${TESLA} does not hold the oem integration role (are role events missing?)`,
      );
    });

    it("drops a burned vehicle", function () {
      const c = chain();
      c.mint(1n, ALICE, "Tesla", "Model 3", 2022, 3);
      c.transfer(1n, ALICE, ZeroAddress);
      expect(replayRegistryEvents(c.events)).to.deep.equal([]);
    });

    it("matches addresses whatever their case and writes them checksummed", function () {
      const c = chain();
      c.mint(1n, ALICE.toLowerCase(), "Tesla", "Model 3", 2022, 3);
      c.connect(1n, TESLA.toLowerCase(), 2);
      c.disconnect(1n, TESLA);
      c.transfer(1n, ALICE, BOB.toLowerCase());
      expect(replayRegistryEvents(c.events)[0].owner).to.equal(BOB);
    });
  });

  describe("CSV", function () {
    it("writes exactly the documented format", function () {
      expect(formatRegistrySnapshot(replayRegistryEvents(scenario()))).to.equal(EXPECTED_CSV);
    });

    it("writes only the header for an empty registry", function () {
      expect(formatRegistrySnapshot([])).to.equal(`${HEADER}\n`);
    });

    it("sorts rows by numeric vehicle id and connection kinds by name", function () {
      const row = (id: bigint, kinds: ("oem" | "software")[]): VehicleSnapshotRow => ({
        vehicleId: id,
        owner: ALICE,
        powertrain: "HEV",
        make: "Honda",
        model: "Insight",
        year: 2010,
        pairedDevice: null,
        connectionKinds: kinds,
      });
      const text = formatRegistrySnapshot([row(10n, ["software", "oem"]), row(9n, []), row(100n, [])]);
      expect(text.split("\n").map((l) => l.split(",")[0])).to.deep.equal(["vehicle_id", "9", "10", "100", ""]);
      expect(text).to.contain(",oem;software\n");
    });

    it("round-trips: parse(format(rows)) gives the rows back", function () {
      const rows = replayRegistryEvents(scenario());
      expect(parseRegistrySnapshot(formatRegistrySnapshot(rows), "vehicles.csv")).to.deep.equal(rows);
      const odd: VehicleSnapshotRow = {
        vehicleId: 2n ** 200n,
        owner: BOB,
        powertrain: "ICE",
        make: " Mercedes-Benz ",
        model: "300 SL, 'Gullwing' (W198)",
        year: 1886,
        pairedDevice: 2n ** 100n,
        connectionKinds: ["oem", "software", "software"],
      };
      expect(parseRegistrySnapshot(formatRegistrySnapshot([odd]), "v.csv")).to.deep.equal([odd]);
    });

    it("accepts CRLF line ends, a BOM and lower-case owners", function () {
      const text = `\ufeff${EXPECTED_CSV.replace(CAROL, CAROL.toLowerCase()).replace(/\n/g, "\r\n")}`;
      expect(parseRegistrySnapshot(text, "vehicles.csv")).to.deep.equal(replayRegistryEvents(scenario()));
    });
  });

  describe("parseRegistrySnapshot errors name file, line and field", function () {
    const lines = EXPECTED_CSV.trimEnd().split("\n");
    /** Replaces field `col` of data line `n` (1-based, after the header). */
    function withField(n: number, col: number, value: string): string {
      const copy = [...lines];
      const [fields] = parse(copy[n]) as string[][];
      fields[col] = value;
      copy[n] = stringify([fields]).trimEnd();
      return `${copy.join("\n")}\n`;
    }
    const flipCase = (address: string) =>
      `0x${address.slice(2).replace(/[a-fA-F]/, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()))}`;
    function problem(text: string): InputError {
      const e = errorOf(() => parseRegistrySnapshot(text, "vehicles.csv"));
      expect(e).to.be.instanceOf(InputError);
      return e as InputError;
    }
    const cases: [string, () => string, RegExp][] = [
      ["an empty file", () => "", /^vehicles\.csv:1 \(header\): empty file/],
      ["a wrong header", () => EXPECTED_CSV.replace("paired_device", "device"), /^vehicles\.csv:1 \(header\): expected/],
      ["a missing field", () => EXPECTED_CSV.replace("F-150,1999,7,", "F-150,1999,7"), /^vehicles\.csv:4 \(row\): expected 8 fields, got 7/],
      ["a blank line", () => EXPECTED_CSV.replace("\n3,", "\n\n3,"), /^vehicles\.csv:4 \(row\): expected 8 fields, got 1/],
      ["an unclosed quote", () => EXPECTED_CSV.replace('"Prius, Prime"', '"Prius, Prime'), /^vehicles\.csv:\d+ \(csv\): Quote Not Closed/],
      ["a bad vehicle id", () => withField(2, 0, "02"), /^vehicles\.csv:3 vehicle_id: expected a positive integer, got "02"/],
      ["unsorted rows", () => withField(2, 0, "4"), /^vehicles\.csv:4 vehicle_id: 3 comes after 4; rows must be sorted/],
      ["a repeated vehicle", () => withField(2, 0, "1"), /^vehicles\.csv:3 vehicle_id: vehicle 1 appears twice/],
      ["a bad owner", () => withField(1, 1, "0x1234"), /^vehicles\.csv:2 owner: expected a 0x address/],
      ["a bad checksum", () => withField(1, 1, flipCase(CAROL)), /^vehicles\.csv:2 owner: expected a 0x address with a valid checksum/],
      ["the zero owner", () => withField(1, 1, ZeroAddress), /^vehicles\.csv:2 owner: the zero address owns nothing/],
      ["an unknown powertrain", () => withField(3, 2, "DIESEL"), /^vehicles\.csv:4 powertrain: expected one of ICE, HEV, PHEV, BEV, got "DIESEL"/],
      ["an empty make", () => withField(1, 3, ""), /^vehicles\.csv:2 make: expected 1-32 characters/],
      ["a model too long", () => withField(1, 4, "M".repeat(33)), /^vehicles\.csv:2 model: expected 1-32 characters/],
      ["a backslash in a model", () => withField(1, 4, "A\\B"), /^vehicles\.csv:2 model: /],
      ["a year out of range", () => withField(1, 5, "1885"), /^vehicles\.csv:2 year: expected a model year from 1886 to 2100, got "1885"/],
      ["a bad device id", () => withField(3, 6, "x"), /^vehicles\.csv:4 paired_device: expected a device id or nothing, got "x"/],
      ["a device paired twice", () => withField(1, 6, "7"), /^vehicles\.csv:4 paired_device: device 7 is also paired with vehicle 1/],
      ["an unknown connection kind", () => withField(1, 7, "hardware"), /^vehicles\.csv:2 connection_kinds: unknown kind "hardware"/],
      ["unsorted connection kinds", () => withField(1, 7, "software;oem"), /^vehicles\.csv:2 connection_kinds: "software;oem" must be sorted/],
      ["an empty connection entry", () => withField(1, 7, "oem;"), /^vehicles\.csv:2 connection_kinds: unknown kind ""/],
      ["too many connections", () => withField(1, 7, Array(9).fill("oem").join(";")), /^vehicles\.csv:2 connection_kinds: 9 connections; a vehicle holds at most 8/],
    ]; // prettier-ignore
    for (const [what, text, pattern] of cases) {
      it(`rejects ${what}`, function () {
        expect(problem(text()).message).to.match(pattern);
      });
    }
  });
});
