/**
 * Registry tasks: thin wrappers over lib/ (validation, VIN commitments, data types, snapshot replay) and
 * the network's deployment record (scripts/registry-context.ts).
 *
 *   vehicle:register   device:mint   device:pair   device:sign-pair   connection:attest
 *   access:grant       access:revoke registry:snapshot
 *
 * Every task validates all of its arguments and checks the chain state it depends on before it sends
 * anything; a bad value stops it with `<task> --<argument>: <problem>` and a non-zero exit. On a non-local
 * network a sending task is a dry run unless `--yes` is given; `--dry-run` always stops before sending.
 */
import fs from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { Presets, SingleBar } from "cli-progress";
import { task } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { type ContractTransactionReceipt, verifyTypedData, ZeroAddress } from "ethers";
import { randomConsentNonce, signAccessConsent } from "../lib/access-consent";
import { ACCESS_CONSENT_TYPES, DATA_ACCESS_DOMAIN_NAME, DOMAIN_VERSION } from "../lib/typed-data";
import { InputError } from "../lib/errors";
import { StateError } from "../lib/governance";
import { hasValidCheckDigit, normalizeVin, vinCommitment } from "../lib/vin";
import { dataTypeNames, dataTypesOfPermissions, parseDataTypeList } from "../lib/data-types";
import {
  CONNECTION_KINDS,
  DEVICE_TEXT_MAX_BYTES,
  isoOf,
  MAX_CONNECTIONS,
  parseFutureTime,
  parseId,
  parseIntIn,
  parseLabel,
  parseModelYear,
  parsePowertrain,
  parseSignature,
  POWERTRAINS,
  VEHICLE_TEXT_MAX_BYTES,
  type Where,
} from "../lib/registry-args";
import { formatRegistrySnapshot, RegistryReplay, RegistryReplayError } from "../lib/registry-snapshot";
import {
  loadRegistryContext,
  localSigner,
  readRegistryEvents,
  REGISTRY_TYPES,
  type RegistryContext,
} from "../scripts/registry-context";
import {
  addressArg,
  arg,
  chainNow,
  cli as kitCli,
  DEFAULT_PAGE_SIZE,
  describeAccount,
  eventOf,
  localAccountArg,
  maySend,
  pageSizeArg,
  say,
  sent,
  type SendFlags,
} from "./kit";

const PLUGIN = "dimo-registry";
/** Default lifetime of signatures the tasks make and submit at once, seconds. */
const SIGNATURE_TTL = 3600;
/** Default lifetime of a pairing signature printed by device:sign-pair (it travels first), seconds. */
const SIGN_PAIR_TTL = 86_400;
const DEFAULT_MANUFACTURER = "4";
const DEFAULT_INTEGRATION = "5";

/** A path relative to the working directory when it is inside it, else absolute. */
function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}

/** The registry tasks' error rule: also a gap in the replayed events (see `cli` in ./kit). */
function cli<A extends object, R>(fn: (args: A, hre: HardhatRuntimeEnvironment) => Promise<R>) {
  return kitCli(PLUGIN, fn, [RegistryReplayError]);
}

async function ownerOfVehicle(ctx: RegistryContext, vehicleId: bigint, where: Where): Promise<string> {
  // Ids run from 1 to totalVehicles and vehicles are never burned.
  const total = await ctx.vehicles.totalVehicles();
  if (vehicleId > total) {
    throw new InputError(where.source, where.field, `no vehicle #${vehicleId} (the registry has ${total})`);
  }
  return ctx.vehicles.ownerOf(vehicleId);
}

/**
 * The vehicle owner's local signer: `--owner-account <index>` (checked against the owner) or the local
 * account that owns the vehicle.
 */
function ownerSignerOf(
  ctx: RegistryContext,
  vehicleId: bigint,
  owner: string,
  account: string | undefined,
  where: Where,
  alternative = "",
): HardhatEthersSigner {
  if (account !== undefined) {
    const signer = localAccountArg(ctx, String(account), where, "it signs");
    if (signer.address !== owner) {
      throw new InputError(
        where.source,
        where.field,
        `${describeAccount(ctx, signer.address)} does not own vehicle #${vehicleId} (owner ${describeAccount(ctx, owner)})`,
      );
    }
    return signer;
  }
  const signer = localSigner(ctx, owner);
  if (!signer) {
    throw new InputError(
      where.source,
      where.field,
      `the owner ${owner} of vehicle #${vehicleId} is not a local account, so it cannot sign here${alternative}`,
    );
  }
  return signer;
}

// ------------------------------------------------------------------------------------------------ vehicles

interface RegisterArgs extends SendFlags {
  make: string;
  model: string;
  year: string;
  powertrain: string;
  vin: string;
  owner?: string;
  relayer?: string;
}

task("vehicle:register", "Registers a vehicle; only its VIN commitment (computed locally) goes on chain")
  .addParam("make", `Manufacturer, 1-${VEHICLE_TEXT_MAX_BYTES} printable ASCII characters without " and \\`)
  .addParam("model", "Model, same rules as --make")
  .addParam("year", "Model year, 1886-2100")
  .addParam("powertrain", POWERTRAINS.join(" | "))
  .addParam("vin", "17-character VIN; never sent, only its commitment")
  .addOptionalParam("owner", "Owner: a local account index or address (default 0); signs the mint")
  .addOptionalParam(
    "relayer",
    "Local account (index or address) that submits the owner's signed MintVehicle (gasless owner)",
  )
  .addFlag("dryRun", "Validate and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(async (args: RegisterArgs, hre) => {
      const w = arg("vehicle:register");
      const make = parseLabel(args.make, w("make"), VEHICLE_TEXT_MAX_BYTES);
      const model = parseLabel(args.model, w("model"), VEHICLE_TEXT_MAX_BYTES);
      const year = parseModelYear(args.year, w("year"));
      const powertrain = parsePowertrain(args.powertrain, w("powertrain"));
      const vin = normalizeVin(args.vin, w("vin"));
      const ctx = await loadRegistryContext(hre);
      const owner = localAccountArg(ctx, args.owner ?? "0", w("owner"), "the owner signs the mint");
      const relayer =
        args.relayer === undefined ? undefined : localAccountArg(ctx, String(args.relayer), w("relayer"), "it signs");

      const commitment = vinCommitment(vin, w("vin"));
      const existing = await ctx.vehicles.vehicleOfVin(commitment);
      if (existing !== 0n) {
        throw new InputError("vehicle:register", "--vin", `this VIN is already registered as vehicle #${existing}`);
      }
      const info = { make, model, year, powertrain, vinCommitment: commitment };
      const label = `${year} ${make} ${model} (${POWERTRAINS[powertrain]})`;
      say(`Registering ${label} for ${describeAccount(ctx, owner.address)}; VIN commitment ${commitment}`);
      if (!hasValidCheckDigit(vin)) {
        say("  note: the VIN's check digit (position 9) does not verify; fine for VINs from outside North America");
      }
      const how = relayer ? `mintVehicleFor submitted by ${describeAccount(ctx, relayer.address)}` : "mintVehicle";
      if (!maySend(hre, args, how)) return { dryRun: true as const, vinCommitment: commitment };

      let receipt: ContractTransactionReceipt;
      if (relayer) {
        const deadline = BigInt((await chainNow(hre)) + SIGNATURE_TTL);
        const nonce = await ctx.vehicles.nonces(owner.address);
        const signature = await owner.signTypedData(ctx.domain, REGISTRY_TYPES.MintVehicle, {
          owner: owner.address,
          ...info,
          nonce,
          deadline,
        });
        receipt = await sent(
          "mintVehicleFor",
          ctx.vehicles.connect(relayer).mintVehicleFor(owner.address, info, deadline, signature),
        );
      } else {
        receipt = await sent("mintVehicle", ctx.vehicles.connect(owner).mintVehicle(info));
      }
      const vehicleId = eventOf(receipt, ctx.vehicles, "VehicleMinted").vehicleId as bigint;
      say(`Vehicle #${vehicleId} minted to ${owner.address}`);
      return {
        dryRun: false as const,
        vehicleId,
        owner: owner.address,
        vinCommitment: commitment,
        txHash: receipt.hash,
        gasUsed: receipt.gasUsed,
      };
    }),
  );

// ------------------------------------------------------------------------------------------------ devices

interface MintDeviceArgs extends SendFlags {
  key: string;
  serial: string;
  hwRevision: string;
  to?: string;
  manufacturer?: string;
}

task("device:mint", "Mints a hardware-device NFT bound to the device's key (approved manufacturers only)")
  .addParam("key", "The key held by the device: a local account index or an address")
  .addParam("serial", `Serial number, 1-${DEVICE_TEXT_MAX_BYTES} printable ASCII characters`)
  .addParam("hwRevision", "Hardware revision label, same rules as --serial")
  .addOptionalParam("to", "Recipient: a local account index or an address (default the manufacturer)")
  .addOptionalParam(
    "manufacturer",
    `The manufacturer: a local account index or address (default ${DEFAULT_MANUFACTURER})`,
  )
  .addFlag("dryRun", "Validate and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(async (args: MintDeviceArgs, hre) => {
      const w = arg("device:mint");
      const serial = parseLabel(args.serial, w("serial"), DEVICE_TEXT_MAX_BYTES);
      const hwRevision = parseLabel(args.hwRevision, w("hw-revision"), DEVICE_TEXT_MAX_BYTES);
      const ctx = await loadRegistryContext(hre);
      const key = addressArg(ctx, args.key, w("key"));
      const manufacturer = localAccountArg(
        ctx,
        args.manufacturer ?? String(DEFAULT_MANUFACTURER),
        w("manufacturer"),
        "it signs",
      );
      const to = args.to === undefined ? manufacturer.address : addressArg(ctx, args.to, w("to"));

      if (!(await ctx.devices.hasRole(await ctx.devices.MANUFACTURER_ROLE(), manufacturer.address))) {
        throw new InputError(
          "device:mint",
          "--manufacturer",
          `${describeAccount(ctx, manufacturer.address)} is not an approved manufacturer (MANUFACTURER_ROLE)`,
        );
      }
      const bound = await ctx.devices.deviceIdOfKey(key);
      if (bound !== 0n) throw new InputError("device:mint", "--key", `${key} is already bound to device #${bound}`);
      say(`Minting device ${serial} (rev ${hwRevision}) bound to key ${key} for ${describeAccount(ctx, to)}`);
      if (!maySend(hre, args, `mintDevice from ${describeAccount(ctx, manufacturer.address)}`)) return { dryRun: true };

      const receipt = await sent(
        "mintDevice",
        ctx.devices.connect(manufacturer).mintDevice(to, key, serial, hwRevision),
      );
      const deviceId = eventOf(receipt, ctx.devices, "DeviceMinted").deviceId as bigint;
      say(`Device #${deviceId} minted to ${to}`);
      return { dryRun: false, deviceId, txHash: receipt.hash, gasUsed: receipt.gasUsed };
    }),
  );

/** Who must sign a pairing and with which nonces; checks both are pairable. */
async function pairingOf(ctx: RegistryContext, taskName: string, vehicleId: bigint, deviceId: bigint) {
  const owner = await ownerOfVehicle(ctx, vehicleId, { source: taskName, field: "--vehicle" });
  const [deviceKey, manufacturer, approved] = await ctx.devices.pairingInfo(deviceId);
  if (deviceKey === ZeroAddress) {
    throw new InputError(
      taskName,
      "--device",
      `no device #${deviceId} (the registry has ${await ctx.devices.totalDevices()})`,
    );
  }
  if (!approved) {
    throw new InputError(
      taskName,
      "--device",
      `device #${deviceId} was made by ${manufacturer}, which is no longer an approved manufacturer (MANUFACTURER_ROLE)`,
    );
  }
  const paired = await ctx.vehicles.pairedDevice(vehicleId);
  if (paired !== 0n)
    throw new InputError(taskName, "--vehicle", `vehicle #${vehicleId} is already paired with device #${paired}`);
  const pairedWith = await ctx.vehicles.pairedVehicle(deviceId);
  if (pairedWith !== 0n) {
    throw new InputError(taskName, "--device", `device #${deviceId} is already paired with vehicle #${pairedWith}`);
  }
  const ownerNonce = await ctx.vehicles.nonces(owner);
  // Owners and device keys share one nonce space; the owner's is used first.
  const deviceNonce = deviceKey === owner ? ownerNonce + 1n : await ctx.vehicles.nonces(deviceKey);
  // The signature dies with the current ownership: a transfer advances the epoch.
  const vehicleEpoch = await ctx.vehicles.ownershipEpoch(vehicleId);
  return { owner, deviceKey, ownerNonce, deviceNonce, vehicleEpoch };
}

interface PairArgs extends SendFlags {
  vehicle: string;
  device: string;
  ownerSignature?: string;
  deviceSignature?: string;
  deadline?: string;
  ownerAccount?: string;
  deviceAccount?: string;
  relayer?: string;
}

task("device:pair", "Pairs a device with a vehicle: signatures of the vehicle owner and of the device key")
  .addParam("vehicle", "Vehicle id")
  .addParam("device", "Device id")
  .addOptionalParam("ownerSignature", "Owner's PairDevice signature made elsewhere (device:sign-pair)")
  .addOptionalParam("deviceSignature", "Device key's PairDevice signature made elsewhere (device:sign-pair)")
  .addOptionalParam("deadline", "Signature deadline (unix seconds, +1h, ISO date); required with a given signature")
  .addOptionalParam("ownerAccount", "Local account (index or address) of the vehicle owner (default: found by address)")
  .addOptionalParam(
    "deviceAccount",
    "Local account (index or address) holding the device key (default: found by address)",
  )
  .addOptionalParam("relayer", "Local account (index or address) that submits (default the owner's account, else 0)")
  .addFlag("dryRun", "Validate, sign and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(async (args: PairArgs, hre) => {
      const T = "device:pair";
      const w = arg(T);
      const vehicleId = parseId(args.vehicle, w("vehicle"));
      const deviceId = parseId(args.device, w("device"));
      const given = {
        owner:
          args.ownerSignature === undefined ? undefined : parseSignature(args.ownerSignature, w("owner-signature")),
        device:
          args.deviceSignature === undefined ? undefined : parseSignature(args.deviceSignature, w("device-signature")),
      };
      if (given.owner !== undefined && args.ownerAccount !== undefined) {
        throw new InputError(T, "--owner-account", "give either --owner-signature or --owner-account, not both");
      }
      if (given.device !== undefined && args.deviceAccount !== undefined) {
        throw new InputError(T, "--device-account", "give either --device-signature or --device-account, not both");
      }
      const ctx = await loadRegistryContext(hre);
      const now = await chainNow(hre);
      if ((given.owner ?? given.device) !== undefined && args.deadline === undefined) {
        throw new InputError(
          T,
          "--deadline",
          "required with a given signature: the deadline is part of what was signed",
        );
      }
      const deadline =
        args.deadline === undefined ? BigInt(now + SIGNATURE_TTL) : parseFutureTime(args.deadline, w("deadline"), now);
      const relayerArg =
        args.relayer === undefined ? undefined : localAccountArg(ctx, String(args.relayer), w("relayer"), "it signs");
      const p = await pairingOf(ctx, T, vehicleId, deviceId);
      const value = {
        vehicleId,
        vehicleEpoch: p.vehicleEpoch,
        deviceId,
        ownerNonce: p.ownerNonce,
        deviceNonce: p.deviceNonce,
        deadline,
      };
      const types = REGISTRY_TYPES.PairDevice;

      const ownerSigner =
        given.owner === undefined
          ? ownerSignerOf(
              ctx,
              vehicleId,
              p.owner,
              args.ownerAccount,
              w("owner-account"),
              "; pass --owner-signature (device:sign-pair)",
            )
          : undefined;
      let deviceSigner: HardhatEthersSigner | undefined;
      if (given.device === undefined) {
        if (args.deviceAccount !== undefined) {
          deviceSigner = localAccountArg(ctx, String(args.deviceAccount), w("device-account"), "it signs");
          if (deviceSigner.address !== p.deviceKey) {
            throw new InputError(
              T,
              "--device-account",
              `${describeAccount(ctx, deviceSigner.address)} does not hold the key of device #${deviceId} (${p.deviceKey})`,
            );
          }
        } else {
          deviceSigner = localSigner(ctx, p.deviceKey);
          if (!deviceSigner) {
            throw new InputError(
              T,
              "--device-signature",
              `the key ${p.deviceKey} of device #${deviceId} is not a local account; pass its signature (device:sign-pair on the device)`,
            );
          }
        }
      }
      // Signatures made elsewhere are checked here, so a wrong one fails before anything is sent.
      for (const [role, sig, signer, field] of [
        ["vehicle owner", given.owner, p.owner, "--owner-signature"],
        ["device key", given.device, p.deviceKey, "--device-signature"],
      ] as const) {
        if (sig === undefined || (await hre.ethers.provider.getCode(signer)) !== "0x") continue; // ERC-1271: on chain
        let recovered: string;
        try {
          recovered = hre.ethers.verifyTypedData(ctx.domain, types, value, sig);
        } catch {
          throw new InputError(T, field, "not a valid 65-byte ECDSA signature");
        }
        if (recovered !== signer) {
          throw new InputError(
            T,
            field,
            `signed by ${recovered}, not by the ${role} ${signer}, for PairDevice(vehicle ${vehicleId}, epoch ${p.vehicleEpoch}, device ${deviceId}, ownerNonce ${p.ownerNonce}, deviceNonce ${p.deviceNonce}, deadline ${deadline}) on chain ${ctx.chainId}`,
          );
        }
      }
      const ownerSignature = given.owner ?? (await ownerSigner!.signTypedData(ctx.domain, types, value));
      const deviceSignature = given.device ?? (await deviceSigner!.signTypedData(ctx.domain, types, value));
      const relayer = relayerArg ?? ownerSigner ?? ctx.signers[0];
      say(`Pairing device #${deviceId} (key ${p.deviceKey}) with vehicle #${vehicleId} (owner ${p.owner})`);
      if (!maySend(hre, args, `pairDevice from ${describeAccount(ctx, relayer.address)}`)) {
        return { dryRun: true, ownerSignature, deviceSignature, deadline };
      }
      const receipt = await sent(
        "pairDevice",
        ctx.vehicles.connect(relayer).pairDevice(vehicleId, deviceId, deadline, ownerSignature, deviceSignature),
      );
      say(`Device #${deviceId} paired with vehicle #${vehicleId}`);
      return { dryRun: false, txHash: receipt.hash, gasUsed: receipt.gasUsed };
    }),
  );

interface SignPairArgs {
  vehicle: string;
  device: string;
  signer: string;
  deadline?: string;
}

task("device:sign-pair", "Prints a PairDevice signature (vehicle owner's or device key's) for device:pair")
  .addParam("vehicle", "Vehicle id")
  .addParam("device", "Device id")
  .addParam("signer", "Local account (index or address): the vehicle owner or the device key")
  .addOptionalParam("deadline", "Deadline (unix seconds, +2h, ISO date); default +1d")
  .setAction(
    cli(async (args: SignPairArgs, hre) => {
      const T = "device:sign-pair";
      const w = arg(T);
      const vehicleId = parseId(args.vehicle, w("vehicle"));
      const deviceId = parseId(args.device, w("device"));
      const ctx = await loadRegistryContext(hre);
      const signer = localAccountArg(ctx, String(args.signer), w("signer"), "it signs");
      const now = await chainNow(hre);
      const deadline =
        args.deadline === undefined ? BigInt(now + SIGN_PAIR_TTL) : parseFutureTime(args.deadline, w("deadline"), now);
      const p = await pairingOf(ctx, T, vehicleId, deviceId);
      const role = signer.address === p.owner ? "owner" : signer.address === p.deviceKey ? "device" : undefined;
      if (!role) {
        throw new InputError(
          T,
          "--signer",
          `${describeAccount(ctx, signer.address)} is neither the owner of vehicle #${vehicleId} (${p.owner}) nor the key of device #${deviceId} (${p.deviceKey})`,
        );
      }
      const value = {
        vehicleId,
        vehicleEpoch: p.vehicleEpoch,
        deviceId,
        ownerNonce: p.ownerNonce,
        deviceNonce: p.deviceNonce,
        deadline,
      };
      const signature = await signer.signTypedData(ctx.domain, REGISTRY_TYPES.PairDevice, value);
      say(
        `PairDevice(vehicle ${vehicleId}, epoch ${p.vehicleEpoch}, device ${deviceId}, ownerNonce ${p.ownerNonce}, deviceNonce ${p.deviceNonce}, deadline ${deadline} = ${isoOf(deadline)}) signed by the ${role === "owner" ? "vehicle owner" : "device key"} ${signer.address}`,
      );
      say(`  signature ${signature}`);
      say(
        `  submit: npx hardhat device:pair --network ${ctx.network} --vehicle ${vehicleId} --device ${deviceId} --deadline ${deadline} --${role}-signature ${signature}`,
      );
      say("  (valid until the deadline, while neither signer's nonce changes and the vehicle keeps its owner)");
      return { role, signature, deadline, ownerNonce: p.ownerNonce, deviceNonce: p.deviceNonce };
    }),
  );

// ------------------------------------------------------------------------------------------------ connections

interface AttestArgs extends SendFlags {
  vehicle: string;
  integration?: string;
  ownerAccount?: string;
}

task("connection:attest", "An approved integration attests a connection, with the owner's signed consent")
  .addParam("vehicle", "Vehicle id")
  .addOptionalParam("integration", `Local account index of the integration (default ${DEFAULT_INTEGRATION})`)
  .addOptionalParam("ownerAccount", "Local account (index or address) of the vehicle owner (default: found by address)")
  .addFlag("dryRun", "Validate, sign and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(async (args: AttestArgs, hre) => {
      const T = "connection:attest";
      const w = arg(T);
      const vehicleId = parseId(args.vehicle, w("vehicle"));
      const ctx = await loadRegistryContext(hre);
      const integration = localAccountArg(
        ctx,
        String(args.integration ?? DEFAULT_INTEGRATION),
        w("integration"),
        "it signs",
      );
      const owner = await ownerOfVehicle(ctx, vehicleId, w("vehicle"));
      const ownerSigner = ownerSignerOf(ctx, vehicleId, owner, args.ownerAccount, w("owner-account"));
      const kindValue = Number(await ctx.vehicles.integrationKind(integration.address));
      const kind = CONNECTION_KINDS[kindValue as keyof typeof CONNECTION_KINDS];
      if (kind === undefined) {
        throw new InputError(
          T,
          "--integration",
          `${describeAccount(ctx, integration.address)} is not an approved integration (SOFTWARE_ or OEM_INTEGRATION_ROLE)`,
        );
      }
      const [connected] = await ctx.vehicles.connections(vehicleId);
      if (connected.includes(integration.address)) {
        throw new InputError(
          T,
          "--integration",
          `${integration.address} is already connected to vehicle #${vehicleId}`,
        );
      }
      if (connected.length >= MAX_CONNECTIONS) {
        throw new InputError(T, "--vehicle", `vehicle #${vehicleId} already has ${MAX_CONNECTIONS} connections`);
      }
      const deadline = BigInt((await chainNow(hre)) + SIGNATURE_TTL);
      const nonce = await ctx.vehicles.nonces(owner);
      const signature = await ownerSigner.signTypedData(ctx.domain, REGISTRY_TYPES.ConnectionConsent, {
        vehicleId,
        integration: integration.address,
        nonce,
        deadline,
      });
      say(`Attesting a ${kind} connection of ${integration.address} to vehicle #${vehicleId} (owner ${owner})`);
      if (!maySend(hre, args, `attestConnection from ${describeAccount(ctx, integration.address)}`)) {
        return { dryRun: true, signature, deadline };
      }
      const receipt = await sent(
        "attestConnection",
        ctx.vehicles.connect(integration).attestConnection(vehicleId, deadline, signature),
      );
      say(`Vehicle #${vehicleId} now has a ${kind} connection`);
      return { dryRun: false, kind, txHash: receipt.hash, gasUsed: receipt.gasUsed };
    }),
  );

// ------------------------------------------------------------------------------------------------ data access

interface GrantArgs extends SendFlags {
  vehicle: string;
  consumer: string;
  types: string;
  expires: string;
  ownerAccount?: string;
  consumerSignature?: string;
  consentNonce?: string;
  consentDeadline?: string;
}

const MAX_UINT256 = (1n << 256n) - 1n;

/** A uint256 in decimal (an offer nonce). */
function parseUint256(value: string | undefined, where: Where): bigint {
  const text = (value ?? "").trim();
  if (!/^\d{1,78}$/.test(text) || BigInt(text) > MAX_UINT256) {
    throw new InputError(
      where.source,
      where.field,
      `expected a non-negative integer below 2^256, got "${value ?? ""}"`,
    );
  }
  return BigInt(text);
}

/** The AccessConsent domain of the deployed DataAccess. */
async function consentDomain(hre: HardhatRuntimeEnvironment, ctx: RegistryContext) {
  const { chainId } = await hre.ethers.provider.getNetwork();
  return { chainId, verifyingContract: await ctx.access.getAddress() };
}

task("access:grant", "The vehicle owner grants a data consumer access to data types until a date")
  .addParam("vehicle", "Vehicle id")
  .addParam("consumer", "The data consumer: a local account index or an address")
  .addParam("types", `Comma-separated data types: ${dataTypeNames().join(", ")}`)
  .addParam("expires", "Expiry: +30d / +12h, an ISO date (2027-01-31, 2027-01-31T12:00:00Z) or unix seconds")
  .addOptionalParam("ownerAccount", "Local account (index or address) of the vehicle owner (default: found by address)")
  .addOptionalParam(
    "consumerSignature",
    "The consumer's signed offer (access:offer prints it); with --consent-nonce and --consent-deadline",
  )
  .addOptionalParam("consentNonce", "Nonce of the consumer's offer")
  .addOptionalParam("consentDeadline", "Deadline of the consumer's offer (unix seconds)")
  .addFlag("dryRun", "Validate and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(async (args: GrantArgs, hre) => {
      const T = "access:grant";
      const w = arg(T);
      const vehicleId = parseId(args.vehicle, w("vehicle"));
      const { names, permissions } = parseDataTypeList(args.types ?? "", w("types"));
      const offerParts = [args.consumerSignature, args.consentNonce, args.consentDeadline];
      const given = offerParts.filter((v) => v !== undefined).length;
      if (given !== 0 && given !== 3) {
        const missing = ["--consumer-signature", "--consent-nonce", "--consent-deadline"].filter(
          (_, i) => offerParts[i] === undefined,
        );
        throw new InputError(
          T,
          missing[0],
          "a signed offer needs --consumer-signature, --consent-nonce and --consent-deadline",
        );
      }
      const ctx = await loadRegistryContext(hre);
      const consumer = addressArg(ctx, args.consumer, w("consumer"));
      const now = await chainNow(hre);
      const expiresAt = parseFutureTime(args.expires, w("expires"), now);
      const owner = await ownerOfVehicle(ctx, vehicleId, w("vehicle"));
      const ownerSigner = ownerSignerOf(ctx, vehicleId, owner, args.ownerAccount, w("owner-account"));
      const capacity = await ctx.access.capacity();
      if (capacity === ZeroAddress) {
        throw new StateError(
          "access:grant: DataAccess has no capacity provider yet (the staking contract is not wired); nothing was sent",
        );
      }
      // The consumer's acceptance: its signed offer, its on-chain rule, or (a local consumer) a fresh offer.
      let offer: { nonce: bigint; deadline: bigint; signature: string } | undefined;
      let acceptance: string;
      if (given === 3) {
        const signature = parseSignature(args.consumerSignature, w("consumer-signature"));
        const nonce = parseUint256(args.consentNonce, w("consent-nonce"));
        const deadline = parseUint256(args.consentDeadline, w("consent-deadline"));
        if (deadline < BigInt(now)) {
          throw new InputError(
            T,
            "--consent-deadline",
            `the offer expired at ${isoOf(deadline)} (chain time ${isoOf(now)})`,
          );
        }
        if (await ctx.access.consentNonceUsed(consumer, nonce)) {
          throw new InputError(T, "--consent-nonce", `nonce ${nonce} of ${consumer} was already used or cancelled`);
        }
        const digestOk =
          verifyTypedData(
            { name: DATA_ACCESS_DOMAIN_NAME, version: DOMAIN_VERSION, ...(await consentDomain(hre, ctx)) },
            ACCESS_CONSENT_TYPES,
            { vehicleId, owner, permissions, expiresAt, nonce, deadline },
            signature,
          ).toLowerCase() === consumer.toLowerCase();
        // A contract wallet's signature is checked on chain (ERC-1271); an EOA's is checked here first.
        if (!digestOk && (await hre.ethers.provider.getCode(consumer)) === "0x") {
          throw new InputError(
            T,
            "--consumer-signature",
            `not ${consumer}'s offer of vehicle #${vehicleId} to ${owner} for these types, expiry, nonce and deadline`,
          );
        }
        offer = { nonce, deadline, signature };
        acceptance = `with ${consumer}'s signed offer (nonce ${nonce})`;
      } else if (await ctx.access.acceptsOwner(consumer, owner)) {
        acceptance = `under ${consumer}'s acceptance of every grant from ${owner}`;
      } else {
        const consumerSigner = localSigner(ctx, consumer);
        if (!consumerSigner) {
          throw new InputError(
            T,
            "--consumer-signature",
            `${consumer} has not accepted grants from ${owner}: give its signed offer (access:offer; --consumer-signature, --consent-nonce, --consent-deadline)`,
          );
        }
        const nonce = randomConsentNonce();
        const deadline = BigInt(now + SIGNATURE_TTL);
        const signature = await signAccessConsent(consumerSigner, await consentDomain(hre, ctx), {
          vehicleId,
          owner,
          permissions,
          expiresAt,
          nonce,
          deadline,
        });
        offer = { nonce, deadline, signature };
        acceptance = `with an offer signed by the local consumer ${describeAccount(ctx, consumer)}`;
      }
      const existing = await ctx.access.grantOf(vehicleId, consumer);
      const stake = await hre.ethers.getContractAt("IAccessCapacity", capacity);
      if (existing.permissions === 0n ? !(await stake.coversOneMore(consumer)) : !(await stake.isCovered(consumer))) {
        throw new InputError(
          T,
          "--consumer",
          `the stake of ${consumer} does not cover ${existing.permissions === 0n ? "one more vehicle" : "its grants"} (it reads ${await stake.vehiclesAccessed(consumer)}), or it is frozen`,
        );
      }
      say(
        `Granting ${consumer} access to vehicle #${vehicleId}: ${names.join(", ")} (permissions 0x${permissions.toString(16)}) until ${isoOf(expiresAt)}${existing.permissions === 0n ? "" : " (updates the existing grant)"}, ${acceptance}`,
      );
      if (!maySend(hre, args, `grant from ${describeAccount(ctx, ownerSigner.address)}`)) return { dryRun: true };
      const access = ctx.access.connect(ownerSigner);
      const receipt = await sent(
        "grant",
        offer
          ? access.grantWithConsent(
              vehicleId,
              consumer,
              permissions,
              expiresAt,
              offer.nonce,
              offer.deadline,
              offer.signature,
            )
          : access.grant(vehicleId, consumer, permissions, expiresAt),
      );
      return { dryRun: false, permissions, expiresAt, txHash: receipt.hash, gasUsed: receipt.gasUsed };
    }),
  );

interface OfferArgs {
  vehicle: string;
  consumer: string;
  types: string;
  expires: string;
  deadline?: string;
}

task("access:offer", "The consumer signs an offer of access to one vehicle for its current owner to grant")
  .addParam("vehicle", "Vehicle id")
  .addParam("consumer", "Local account (index or address) of the data consumer that signs")
  .addParam("types", `Comma-separated data types: ${dataTypeNames().join(", ")}`)
  .addParam("expires", "Expiry of the grant: +30d / +12h, an ISO date or unix seconds")
  .addOptionalParam("deadline", "Until when the owner may use the offer (default +1d)")
  .setAction(
    cli(async (args: OfferArgs, hre) => {
      const T = "access:offer";
      const w = arg(T);
      const vehicleId = parseId(args.vehicle, w("vehicle"));
      const { permissions } = parseDataTypeList(args.types ?? "", w("types"));
      const ctx = await loadRegistryContext(hre);
      const consumer = localAccountArg(ctx, args.consumer, w("consumer"), "it signs the offer");
      const now = await chainNow(hre);
      const expiresAt = parseFutureTime(args.expires, w("expires"), now);
      const deadline = parseFutureTime(args.deadline ?? "+1d", w("deadline"), now);
      const owner = await ownerOfVehicle(ctx, vehicleId, w("vehicle"));
      const nonce = randomConsentNonce();
      const signature = await signAccessConsent(consumer, await consentDomain(hre, ctx), {
        vehicleId,
        owner,
        permissions,
        expiresAt,
        nonce,
        deadline,
      });
      say(`Offer of ${consumer.address} for vehicle #${vehicleId} (owner ${owner}), until ${isoOf(deadline)}:`);
      say(
        `  npx hardhat access:grant --vehicle ${vehicleId} --consumer ${consumer.address} --types ${args.types} --expires ${expiresAt} --consumer-signature ${signature} --consent-nonce ${nonce} --consent-deadline ${deadline}`,
      );
      return { owner, expiresAt, nonce, deadline, signature };
    }),
  );

interface RevokeArgs extends SendFlags {
  vehicle: string;
  consumer: string;
  account?: string;
}

task("access:revoke", "Deletes a consumer's grant on a vehicle (the owner or the consumer)")
  .addParam("vehicle", "Vehicle id")
  .addParam("consumer", "The data consumer: a local account index or an address")
  .addOptionalParam(
    "account",
    "Local account (index or address) that revokes (default: the owner's, else the consumer's)",
  )
  .addFlag("dryRun", "Validate and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(async (args: RevokeArgs, hre) => {
      const T = "access:revoke";
      const w = arg(T);
      const vehicleId = parseId(args.vehicle, w("vehicle"));
      const ctx = await loadRegistryContext(hre);
      const consumer = addressArg(ctx, args.consumer, w("consumer"));
      const owner = await ownerOfVehicle(ctx, vehicleId, w("vehicle"));
      let signer: HardhatEthersSigner | undefined;
      if (args.account !== undefined) {
        signer = localAccountArg(ctx, String(args.account), w("account"), "it signs");
        if (signer.address !== owner && signer.address !== consumer) {
          throw new InputError(
            T,
            "--account",
            `${describeAccount(ctx, signer.address)} is neither the owner of vehicle #${vehicleId} (${owner}) nor the consumer`,
          );
        }
      } else {
        signer = localSigner(ctx, owner) ?? localSigner(ctx, consumer);
        if (!signer) {
          throw new InputError(T, "--account", `neither the owner ${owner} nor the consumer is a local account`);
        }
      }
      const existing = await ctx.access.grantOf(vehicleId, consumer);
      if (existing.permissions === 0n) {
        throw new InputError(T, "--consumer", `${consumer} has no grant record on vehicle #${vehicleId}`);
      }
      say(
        `Revoking ${consumer}'s access to vehicle #${vehicleId} (${dataTypesOfPermissions(existing.permissions).join(", ")})`,
      );
      if (!maySend(hre, args, `revoke from ${describeAccount(ctx, signer.address)}`)) return { dryRun: true };
      const receipt = await sent("revoke", ctx.access.connect(signer).revoke(vehicleId, consumer));
      return { dryRun: false, txHash: receipt.hash, gasUsed: receipt.gasUsed };
    }),
  );

// ------------------------------------------------------------------------------------------------ snapshot

interface SnapshotArgs {
  out: string;
  block?: string;
  pageSize?: string;
}

// ------------------------------------------------------------------------------------------------ prune

interface PruneArgs extends SendFlags {
  consumer: string;
  vehicle?: string;
  from?: string;
  pageSize?: string;
}

task("access:prune", "Deletes a consumer's grants that no longer count (expired, or stale after a transfer); anyone")
  .addParam("consumer", "The data consumer: a local account index or an address")
  .addOptionalParam("vehicle", "Only this vehicle's grant (default: every grant the consumer was given)")
  .addOptionalParam("from", "Local account (index or address) that sends (default 0)")
  .addOptionalParam("pageSize", `Blocks per eth_getLogs window (default ${DEFAULT_PAGE_SIZE})`)
  .addFlag("dryRun", "Validate and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(async (args: PruneArgs, hre) => {
      const T = "access:prune";
      const w = arg(T);
      const only = args.vehicle === undefined ? undefined : parseId(args.vehicle, w("vehicle"));
      const pageSize = pageSizeArg(args.pageSize, T);
      const ctx = await loadRegistryContext(hre);
      const consumer = addressArg(ctx, args.consumer, w("consumer"));
      const from = localAccountArg(ctx, args.from ?? "0", w("from"), "it signs");
      let candidates: bigint[];
      if (only !== undefined) {
        await ownerOfVehicle(ctx, only, w("vehicle"));
        candidates = [only];
      } else {
        // Every vehicle the consumer was ever granted, from AccessGranted (consumer is indexed).
        const seen = new Set<bigint>();
        const latest = await hre.ethers.provider.getBlockNumber();
        const filter = ctx.access.filters.AccessGranted(undefined, consumer);
        const start = ctx.record.contracts.DataAccess.blockNumber;
        for (let b = start; b <= latest; b += pageSize) {
          for (const log of await ctx.access.queryFilter(filter, b, Math.min(latest, b + pageSize - 1))) {
            seen.add(log.args.vehicleId);
          }
        }
        candidates = [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      }
      // What the contract itself would accept now: a grant record that exists and no longer counts.
      const prunable: bigint[] = [];
      for (const v of candidates) {
        if ((await ctx.access.grantOf(v, consumer)).permissions === 0n) continue;
        try {
          await ctx.access.connect(from).prune.staticCall(v, consumer);
          prunable.push(v);
        } catch {
          // still valid (AccessGrantStillValid): not prunable
        }
      }
      if (only !== undefined && prunable.length === 0) {
        const g = await ctx.access.grantOf(only, consumer);
        throw new InputError(
          T,
          "--vehicle",
          g.permissions === 0n
            ? `${describeAccount(ctx, consumer)} has no grant record on vehicle #${only}`
            : `the grant of ${describeAccount(ctx, consumer)} on vehicle #${only} still counts (expires ${isoOf(g.expiresAt)}, same owner): only the owner or the consumer can revoke it (access:revoke)`,
        );
      }
      say(
        prunable.length === 0
          ? `Nothing to prune: ${describeAccount(ctx, consumer)} holds no expired or stale grant (${candidates.length} vehicle(s) checked)`
          : `Pruning ${prunable.length} grant(s) of ${describeAccount(ctx, consumer)}: vehicle ${prunable.map((v) => `#${v}`).join(", ")}`,
      );
      if (prunable.length === 0) return { dryRun: false, pruned: [] as bigint[] };
      if (!maySend(hre, args, `one pruneMany transaction from ${describeAccount(ctx, from.address)}`)) {
        return { dryRun: true, pruned: [] as bigint[], prunable };
      }
      const receipt = await sent("pruneMany", ctx.access.connect(from).pruneMany(consumer, prunable));
      return { dryRun: false, pruned: prunable, txHash: receipt.hash, gasUsed: receipt.gasUsed };
    }),
  );

// ------------------------------------------------------------------------------------------------ transfer

interface TransferVehicleArgs extends SendFlags {
  vehicle: string;
  to: string;
  ownerAccount?: string;
}

task("vehicle:transfer", "Transfers a vehicle: unpairs its device, removes its connections, voids the old grants")
  .addParam("vehicle", "Vehicle id")
  .addParam("to", "The new owner: a local account index or an address")
  .addOptionalParam("ownerAccount", "Local account (index or address) of the current owner (default: found by address)")
  .addFlag("dryRun", "Validate and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(async (args: TransferVehicleArgs, hre) => {
      const T = "vehicle:transfer";
      const w = arg(T);
      const vehicleId = parseId(args.vehicle, w("vehicle"));
      const ctx = await loadRegistryContext(hre);
      const to = addressArg(ctx, args.to, w("to"));
      if (to === ZeroAddress) throw new InputError(T, "--to", "the zero address cannot own a vehicle");
      const owner = await ownerOfVehicle(ctx, vehicleId, w("vehicle"));
      if (owner.toLowerCase() === to.toLowerCase()) {
        throw new InputError(T, "--to", `${describeAccount(ctx, to)} already owns vehicle #${vehicleId}`);
      }
      const signer = ownerSignerOf(ctx, vehicleId, owner, args.ownerAccount, w("owner-account"));
      say(
        `Transferring vehicle #${vehicleId} from ${describeAccount(ctx, owner)} to ${describeAccount(ctx, to)}: its device is unpaired, its connections removed and every grant the previous owner gave is void`,
      );
      if (!maySend(hre, args, `transferFrom from ${describeAccount(ctx, signer.address)}`)) return { dryRun: true };
      const receipt = await sent("transferFrom", ctx.vehicles.connect(signer).transferFrom(owner, to, vehicleId));
      say(`Vehicle #${vehicleId} now belongs to ${describeAccount(ctx, to)} (it re-pairs and re-consents itself)`);
      return { dryRun: false, txHash: receipt.hash, gasUsed: receipt.gasUsed };
    }),
  );

// ------------------------------------------------------------------------------------------------ snapshot

task("registry:snapshot", "Writes every vehicle at a block (owner, data, paired device, connections) to a CSV")
  .addParam("out", "Output CSV file (written atomically)")
  .addOptionalParam("block", "Block number (default latest)")
  .addOptionalParam("pageSize", `Blocks per eth_getLogs window (default ${DEFAULT_PAGE_SIZE})`)
  .setAction(
    cli(async (args: SnapshotArgs, hre) => {
      const T = "registry:snapshot";
      const w = arg(T);
      if (!args.out || args.out.trim() === "") throw new InputError(T, "--out", "must name a file");
      const out = path.resolve(args.out);
      if (!fs.existsSync(path.dirname(out)) || !fs.statSync(path.dirname(out)).isDirectory()) {
        throw new InputError(T, "--out", `directory ${path.dirname(out)} does not exist`);
      }
      if (fs.existsSync(out) && fs.statSync(out).isDirectory())
        throw new InputError(T, "--out", `${out} is a directory`);
      const pageSize = pageSizeArg(args.pageSize, T);
      const requested = args.block === undefined ? undefined : parseIntIn(args.block, w("block"), 0, 2 ** 53 - 1);
      const ctx = await loadRegistryContext(hre);
      const latest = await hre.ethers.provider.getBlockNumber();
      const block = requested ?? latest;
      if (block > latest) throw new InputError(T, "--block", `block ${block} is not mined yet (latest ${latest})`);
      if (block < ctx.vehiclesDeployBlock) {
        throw new InputError(
          T,
          "--block",
          `block ${block} is before the VehicleRegistry was deployed (block ${ctx.vehiclesDeployBlock})`,
        );
      }
      const started = Date.now();
      const replay = new RegistryReplay();
      let events = 0;
      const pages = Math.ceil((block - ctx.vehiclesDeployBlock + 1) / pageSize);
      let bar: SingleBar | undefined;
      if (process.stdout.isTTY) {
        bar = new SingleBar(
          { format: "  blocks {from}-{to} [{bar}] {value}/{total} pages, {events} events", hideCursor: true },
          Presets.shades_classic,
        );
        bar.start(pages, 0, { from: ctx.vehiclesDeployBlock, to: block, events });
      }
      try {
        await readRegistryEvents(
          ctx,
          { fromBlock: ctx.vehiclesDeployBlock, toBlock: block, pageSize },
          (list, page) => {
            replay.applyAll(list);
            events += list.length;
            bar?.update(page.index + 1, { from: page.fromBlock, to: page.toBlock, events });
          },
        );
      } finally {
        bar?.stop();
      }
      const rows = replay.rows();
      const text = formatRegistrySnapshot(rows);
      const tmp = `${out}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, out);
      const sha256 = createHash("sha256").update(text).digest("hex");
      const seconds = (Date.now() - started) / 1000;
      const blockTime = (await hre.ethers.provider.getBlock(block))!.timestamp;
      say(`Wrote ${rows.length} vehicle(s) at block ${block} (${isoOf(blockTime)}) to ${displayPath(out)}`);
      say(
        `  ${events} event(s) from blocks ${ctx.vehiclesDeployBlock}-${block} in ${pages} page(s) of ${pageSize}; ${seconds.toFixed(2)} s; sha256 ${sha256}`,
      );
      return { file: out, block, blockTime, vehicles: rows.length, events, pages, sha256, seconds };
    }),
  );
