import { expect } from "chai";
import { ethers } from "hardhat";
import type { FunctionFragment, Signature } from "ethers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { DimoToken } from "../typechain-types";
import { DIMO, POOL, TOTAL_SUPPLY, deployFoundation } from "./helpers/fixtures";
import { PERMIT_TYPES } from "../lib/typed-data";

const ALICE_GENESIS = DIMO(1_000_000);
const BOB_GENESIS = DIMO(500_000);
const CAROL_GENESIS = DIMO(250_000);

const DELEGATION_TYPES = {
  Delegation: [
    { name: "delegatee", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
};

/** The foundation with three early holders (taken out of the treasury's share) to move tokens and votes. */
async function holdersFixture() {
  const [, , , alice, bob, carol] = await ethers.getSigners();
  return deployFoundation([
    { to: alice.address, amount: ALICE_GENESIS },
    { to: bob.address, amount: BOB_GENESIS },
    { to: carol.address, amount: CAROL_GENESIS },
  ]);
}

async function domainOf(token: DimoToken, chainId?: bigint) {
  return {
    name: "Dimo",
    version: "1",
    chainId: chainId ?? (await ethers.provider.getNetwork()).chainId,
    verifyingContract: await token.getAddress(),
  };
}

interface PermitMessage {
  owner: string;
  spender: string;
  value: bigint;
  nonce: bigint;
  deadline: bigint;
}

async function signPermit(
  token: DimoToken,
  owner: HardhatEthersSigner,
  spender: string,
  value: bigint,
  deadline: bigint,
  overrides: { nonce?: bigint; chainId?: bigint; verifyingContract?: string } = {},
) {
  const domain = await domainOf(token, overrides.chainId);
  if (overrides.verifyingContract) domain.verifyingContract = overrides.verifyingContract;
  const message: PermitMessage = {
    owner: owner.address,
    spender,
    value,
    nonce: overrides.nonce ?? (await token.nonces(owner.address)),
    deadline,
  };
  const signature = ethers.Signature.from(await owner.signTypedData(domain, PERMIT_TYPES, message));
  return { message, signature };
}

/** The address the token recovers for `message` signed as `signature` under its real domain. */
async function recoveredPermitSigner(token: DimoToken, message: PermitMessage, signature: Signature) {
  return ethers.verifyTypedData(await domainOf(token), PERMIT_TYPES, message, signature);
}

async function signDelegation(
  token: DimoToken,
  signer: HardhatEthersSigner,
  delegatee: string,
  nonce: bigint,
  expiry: bigint,
) {
  const domain = await domainOf(token);
  return ethers.Signature.from(await signer.signTypedData(domain, DELEGATION_TYPES, { delegatee, nonce, expiry }));
}

describe("DimoToken", function () {
  describe("metadata", function () {
    it("is named Dimo with the symbol DIMO", async function () {
      const { token } = await loadFixture(holdersFixture);
      expect(await token.name()).to.equal("Dimo");
      expect(await token.symbol()).to.equal("DIMO");
    });

    it("has 18 decimals", async function () {
      const { token } = await loadFixture(holdersFixture);
      expect(await token.decimals()).to.equal(18n);
    });

    it("declares a TOTAL_SUPPLY of exactly 1e27 wei", async function () {
      const { token } = await loadFixture(holdersFixture);
      expect(await token.TOTAL_SUPPLY()).to.equal(10n ** 27n);
    });
  });

  describe("constructor", function () {
    describe("when the genesis allocation sums to the supply", function () {
      it("mints exactly 1e27 wei in total", async function () {
        const { token } = await loadFixture(holdersFixture);
        expect(await token.totalSupply()).to.equal(10n ** 27n);
      });

      it("gives each recipient its allocation", async function () {
        const { token, vault, timelock, alice, bob, carol } = await loadFixture(holdersFixture);
        expect(await token.balanceOf(await vault.getAddress())).to.equal(POOL);
        expect(await token.balanceOf(await timelock.getAddress())).to.equal(
          TOTAL_SUPPLY - POOL - ALICE_GENESIS - BOB_GENESIS - CAROL_GENESIS,
        );
        expect(await token.balanceOf(alice.address)).to.equal(ALICE_GENESIS);
        expect(await token.balanceOf(bob.address)).to.equal(BOB_GENESIS);
        expect(await token.balanceOf(carol.address)).to.equal(CAROL_GENESIS);
      });

      it("emits GenesisAllocated for every entry", async function () {
        const [, , , alice, bob] = await ethers.getSigners();
        const token = await ethers.deployContract("DimoToken", [
          [alice.address, bob.address],
          [DIMO(400_000_000), DIMO(600_000_000)],
        ]);
        const deployment = token.deploymentTransaction();
        await expect(deployment).to.emit(token, "GenesisAllocated").withArgs(alice.address, DIMO(400_000_000));
        await expect(deployment).to.emit(token, "GenesisAllocated").withArgs(bob.address, DIMO(600_000_000));
      });

      it("emits an ERC-20 Transfer from the zero address for every entry", async function () {
        const [, , , alice, bob] = await ethers.getSigners();
        const token = await ethers.deployContract("DimoToken", [
          [alice.address, bob.address],
          [DIMO(400_000_000), DIMO(600_000_000)],
        ]);
        const deployment = token.deploymentTransaction();
        await expect(deployment)
          .to.emit(token, "Transfer")
          .withArgs(ethers.ZeroAddress, alice.address, DIMO(400_000_000));
        await expect(deployment)
          .to.emit(token, "Transfer")
          .withArgs(ethers.ZeroAddress, bob.address, DIMO(600_000_000));
      });

      it("accepts the whole supply to a single recipient", async function () {
        const [, , , alice] = await ethers.getSigners();
        const token = await ethers.deployContract("DimoToken", [[alice.address], [TOTAL_SUPPLY]]);
        expect(await token.balanceOf(alice.address)).to.equal(TOTAL_SUPPLY);
      });

      it("adds up repeated recipients", async function () {
        const [, , , alice, bob] = await ethers.getSigners();
        const token = await ethers.deployContract("DimoToken", [
          [alice.address, bob.address, alice.address],
          [DIMO(100), TOTAL_SUPPLY - DIMO(300), DIMO(200)],
        ]);
        expect(await token.balanceOf(alice.address)).to.equal(DIMO(300));
      });
    });

    describe("when the allocation sums to 1 wei more than the supply", function () {
      it("reverts with DimoGenesisSupplyMismatch(allocated, expected)", async function () {
        const [, , , alice, bob] = await ethers.getSigners();
        const factory = await ethers.getContractFactory("DimoToken");
        await expect(factory.deploy([alice.address, bob.address], [POOL, TOTAL_SUPPLY - POOL + 1n]))
          .to.be.revertedWithCustomError(factory, "DimoGenesisSupplyMismatch")
          .withArgs(TOTAL_SUPPLY + 1n, TOTAL_SUPPLY);
      });
    });

    describe("when the allocation sums to 1 wei less than the supply", function () {
      it("reverts with DimoGenesisSupplyMismatch(allocated, expected)", async function () {
        const [, , , alice, bob] = await ethers.getSigners();
        const factory = await ethers.getContractFactory("DimoToken");
        await expect(factory.deploy([alice.address, bob.address], [POOL, TOTAL_SUPPLY - POOL - 1n]))
          .to.be.revertedWithCustomError(factory, "DimoGenesisSupplyMismatch")
          .withArgs(TOTAL_SUPPLY - 1n, TOTAL_SUPPLY);
      });
    });

    describe("when the allocation is empty", function () {
      it("reverts with DimoGenesisSupplyMismatch(0, expected)", async function () {
        const factory = await ethers.getContractFactory("DimoToken");
        await expect(factory.deploy([], []))
          .to.be.revertedWithCustomError(factory, "DimoGenesisSupplyMismatch")
          .withArgs(0n, TOTAL_SUPPLY);
      });
    });

    describe("when recipients and amounts differ in length", function () {
      it("reverts with DimoGenesisLengthMismatch(recipients, amounts)", async function () {
        const [, , , alice, bob] = await ethers.getSigners();
        const factory = await ethers.getContractFactory("DimoToken");
        await expect(factory.deploy([alice.address, bob.address], [TOTAL_SUPPLY]))
          .to.be.revertedWithCustomError(factory, "DimoGenesisLengthMismatch")
          .withArgs(2n, 1n);
        await expect(factory.deploy([alice.address], [POOL, TOTAL_SUPPLY - POOL]))
          .to.be.revertedWithCustomError(factory, "DimoGenesisLengthMismatch")
          .withArgs(1n, 2n);
      });
    });

    describe("when an entry has a zero amount", function () {
      it("reverts with DimoGenesisZeroAmount(index, recipient)", async function () {
        const [, , , alice, bob, carol] = await ethers.getSigners();
        const factory = await ethers.getContractFactory("DimoToken");
        await expect(factory.deploy([alice.address, bob.address, carol.address], [POOL, 0n, TOTAL_SUPPLY - POOL]))
          .to.be.revertedWithCustomError(factory, "DimoGenesisZeroAmount")
          .withArgs(1n, bob.address);
      });
    });

    describe("when a recipient is the zero address", function () {
      it("reverts with ERC20InvalidReceiver(address(0))", async function () {
        const [, , , alice] = await ethers.getSigners();
        const factory = await ethers.getContractFactory("DimoToken");
        await expect(factory.deploy([alice.address, ethers.ZeroAddress], [POOL, TOTAL_SUPPLY - POOL]))
          .to.be.revertedWithCustomError(factory, "ERC20InvalidReceiver")
          .withArgs(ethers.ZeroAddress);
      });
    });

    describe("when an amount exceeds the ERC20Votes safe supply", function () {
      it("reverts with ERC20ExceededSafeSupply(supply, cap) before the sum could wrap around", async function () {
        const [, , , alice, bob] = await ethers.getSigners();
        const factory = await ethers.getContractFactory("DimoToken");
        // (2^256 - 1) + (1e27 + 1) would wrap to exactly 1e27 in unchecked arithmetic.
        await expect(factory.deploy([alice.address, bob.address], [ethers.MaxUint256, TOTAL_SUPPLY + 1n]))
          .to.be.revertedWithCustomError(factory, "ERC20ExceededSafeSupply")
          .withArgs(ethers.MaxUint256, 2n ** 208n - 1n);
      });
    });
  });

  describe("supply", function () {
    it("has no mint function in its ABI", async function () {
      const { token } = await loadFixture(holdersFixture);
      const names = token.interface.fragments
        .filter((f): f is FunctionFragment => f.type === "function")
        .map((f) => f.name);
      expect(names.filter((n) => /mint/i.test(n))).to.deep.equal([]);
    });

    it("has no state-changing function besides the ERC-20, permit, votes and burn ones", async function () {
      const { token } = await loadFixture(holdersFixture);
      const mutating = token.interface.fragments
        .filter((f): f is FunctionFragment => f.type === "function")
        .filter((f) => f.stateMutability !== "view" && f.stateMutability !== "pure")
        .map((f) => f.name)
        .sort();
      expect(mutating).to.deep.equal([
        "approve",
        "burn",
        "delegate",
        "delegateBySig",
        "permit",
        "transfer",
        "transferFrom",
      ]);
    });
  });

  describe("transfer", function () {
    it("moves tokens between accounts", async function () {
      const { token, alice, bob } = await loadFixture(holdersFixture);
      await expect(token.connect(alice).transfer(bob.address, DIMO(10))).to.changeTokenBalances(
        token,
        [alice, bob],
        [-DIMO(10), DIMO(10)],
      );
    });

    it("keeps the total supply unchanged", async function () {
      const { token, alice, bob } = await loadFixture(holdersFixture);
      await token.connect(alice).transfer(bob.address, DIMO(10));
      expect(await token.totalSupply()).to.equal(TOTAL_SUPPLY);
    });

    describe("when the sender's balance is too small", function () {
      it("reverts with ERC20InsufficientBalance(sender, balance, needed)", async function () {
        const { token, alice, bob } = await loadFixture(holdersFixture);
        await expect(token.connect(alice).transfer(bob.address, ALICE_GENESIS + 1n))
          .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
          .withArgs(alice.address, ALICE_GENESIS, ALICE_GENESIS + 1n);
      });
    });

    describe("when the recipient is the zero address", function () {
      it("reverts with ERC20InvalidReceiver(address(0))", async function () {
        const { token, alice } = await loadFixture(holdersFixture);
        await expect(token.connect(alice).transfer(ethers.ZeroAddress, 1n))
          .to.be.revertedWithCustomError(token, "ERC20InvalidReceiver")
          .withArgs(ethers.ZeroAddress);
      });
    });
  });

  describe("burn", function () {
    it("reduces the caller's balance", async function () {
      const { token, alice } = await loadFixture(holdersFixture);
      await expect(token.connect(alice).burn(DIMO(1_000))).to.changeTokenBalance(token, alice, -DIMO(1_000));
    });

    it("reduces the total supply by the amount burned", async function () {
      const { token, alice } = await loadFixture(holdersFixture);
      await token.connect(alice).burn(DIMO(1_000));
      expect(await token.totalSupply()).to.equal(TOTAL_SUPPLY - DIMO(1_000));
    });

    it("emits Transfer to the zero address", async function () {
      const { token, alice } = await loadFixture(holdersFixture);
      await expect(token.connect(alice).burn(DIMO(1_000)))
        .to.emit(token, "Transfer")
        .withArgs(alice.address, ethers.ZeroAddress, DIMO(1_000));
    });

    it("lets a holder burn its whole balance", async function () {
      const { token, alice } = await loadFixture(holdersFixture);
      await token.connect(alice).burn(ALICE_GENESIS);
      expect(await token.balanceOf(alice.address)).to.equal(0n);
    });

    it("removes the burned amount from the votes of the holder's delegate", async function () {
      const { token, alice, bob } = await loadFixture(holdersFixture);
      await token.connect(alice).delegate(bob.address);
      await token.connect(alice).burn(DIMO(1_000));
      expect(await token.getVotes(bob.address)).to.equal(ALICE_GENESIS - DIMO(1_000));
    });

    it("reduces the past total supply recorded for later timepoints", async function () {
      const { token, alice } = await loadFixture(holdersFixture);
      const tx = await token.connect(alice).burn(DIMO(1_000));
      const burnedAt = (await ethers.provider.getBlock((await tx.wait())!.blockNumber))!.timestamp;
      await time.increase(1);
      expect(await token.getPastTotalSupply(burnedAt - 1)).to.equal(TOTAL_SUPPLY);
      expect(await token.getPastTotalSupply(burnedAt)).to.equal(TOTAL_SUPPLY - DIMO(1_000));
    });

    describe("when the amount exceeds the caller's balance", function () {
      it("reverts with ERC20InsufficientBalance(caller, balance, needed)", async function () {
        const { token, alice } = await loadFixture(holdersFixture);
        await expect(token.connect(alice).burn(ALICE_GENESIS + 1n))
          .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
          .withArgs(alice.address, ALICE_GENESIS, ALICE_GENESIS + 1n);
      });
    });
  });

  describe("permit", function () {
    it("uses the EIP-712 domain Dimo, version 1, this chain and this contract", async function () {
      const { token } = await loadFixture(holdersFixture);
      const domain = await domainOf(token);
      expect(await token.DOMAIN_SEPARATOR()).to.equal(ethers.TypedDataEncoder.hashDomain(domain));
      const [, name, version, chainId, verifyingContract] = await token.eip712Domain();
      expect([name, version, chainId, verifyingContract]).to.deep.equal([
        domain.name,
        domain.version,
        domain.chainId,
        domain.verifyingContract,
      ]);
    });

    describe("when the owner's signature is valid", function () {
      it("sets the allowance, whoever submits it", async function () {
        const { token, alice, bob, outsider } = await loadFixture(holdersFixture);
        const deadline = BigInt(await time.latest()) + 3_600n;
        const { signature: sig } = await signPermit(token, alice, bob.address, DIMO(5), deadline);
        await token.connect(outsider).permit(alice.address, bob.address, DIMO(5), deadline, sig.v, sig.r, sig.s);
        expect(await token.allowance(alice.address, bob.address)).to.equal(DIMO(5));
      });

      it("emits Approval(owner, spender, value)", async function () {
        const { token, alice, bob } = await loadFixture(holdersFixture);
        const deadline = BigInt(await time.latest()) + 3_600n;
        const { signature: sig } = await signPermit(token, alice, bob.address, DIMO(5), deadline);
        await expect(token.permit(alice.address, bob.address, DIMO(5), deadline, sig.v, sig.r, sig.s))
          .to.emit(token, "Approval")
          .withArgs(alice.address, bob.address, DIMO(5));
      });

      it("increments the owner's nonce", async function () {
        const { token, alice, bob } = await loadFixture(holdersFixture);
        const deadline = BigInt(await time.latest()) + 3_600n;
        const { signature: sig } = await signPermit(token, alice, bob.address, DIMO(5), deadline);
        await token.permit(alice.address, bob.address, DIMO(5), deadline, sig.v, sig.r, sig.s);
        expect(await token.nonces(alice.address)).to.equal(1n);
      });

      it("lets the spender transfer the permitted amount", async function () {
        const { token, alice, bob, carol } = await loadFixture(holdersFixture);
        const deadline = BigInt(await time.latest()) + 3_600n;
        const { signature: sig } = await signPermit(token, alice, bob.address, DIMO(5), deadline);
        await token.permit(alice.address, bob.address, DIMO(5), deadline, sig.v, sig.r, sig.s);
        await expect(token.connect(bob).transferFrom(alice.address, carol.address, DIMO(5))).to.changeTokenBalances(
          token,
          [alice, carol],
          [-DIMO(5), DIMO(5)],
        );
      });

      it("is accepted in the block whose timestamp equals the deadline", async function () {
        const { token, alice, bob } = await loadFixture(holdersFixture);
        const deadline = BigInt(await time.latest()) + 100n;
        const { signature: sig } = await signPermit(token, alice, bob.address, DIMO(5), deadline);
        await time.setNextBlockTimestamp(deadline);
        await expect(token.permit(alice.address, bob.address, DIMO(5), deadline, sig.v, sig.r, sig.s)).not.to.be
          .reverted;
      });
    });

    describe("when the same signature is submitted twice", function () {
      it("reverts the replay with ERC2612InvalidSigner(recovered, owner)", async function () {
        const { token, alice, bob } = await loadFixture(holdersFixture);
        const deadline = BigInt(await time.latest()) + 3_600n;
        const { message, signature: sig } = await signPermit(token, alice, bob.address, DIMO(5), deadline);
        await token.permit(alice.address, bob.address, DIMO(5), deadline, sig.v, sig.r, sig.s);
        // The contract now hashes nonce 1, so the signature over nonce 0 recovers some other address.
        const recovered = await recoveredPermitSigner(token, { ...message, nonce: 1n }, sig);
        expect(recovered).not.to.equal(alice.address);
        await expect(token.permit(alice.address, bob.address, DIMO(5), deadline, sig.v, sig.r, sig.s))
          .to.be.revertedWithCustomError(token, "ERC2612InvalidSigner")
          .withArgs(recovered, alice.address);
      });
    });

    describe("when the deadline has passed", function () {
      it("reverts with ERC2612ExpiredSignature(deadline)", async function () {
        const { token, alice, bob } = await loadFixture(holdersFixture);
        const deadline = BigInt(await time.latest()) + 100n;
        const { signature: sig } = await signPermit(token, alice, bob.address, DIMO(5), deadline);
        await time.setNextBlockTimestamp(deadline + 1n);
        await expect(token.permit(alice.address, bob.address, DIMO(5), deadline, sig.v, sig.r, sig.s))
          .to.be.revertedWithCustomError(token, "ERC2612ExpiredSignature")
          .withArgs(deadline);
      });
    });

    describe("when the signature was made for another chain id", function () {
      it("reverts with ERC2612InvalidSigner(recovered, owner)", async function () {
        const { token, alice, bob } = await loadFixture(holdersFixture);
        const deadline = BigInt(await time.latest()) + 3_600n;
        const realChainId = (await ethers.provider.getNetwork()).chainId;
        const { message, signature: sig } = await signPermit(token, alice, bob.address, DIMO(5), deadline, {
          chainId: realChainId + 1n,
        });
        const recovered = await recoveredPermitSigner(token, message, sig);
        expect(recovered).not.to.equal(alice.address);
        await expect(token.permit(alice.address, bob.address, DIMO(5), deadline, sig.v, sig.r, sig.s))
          .to.be.revertedWithCustomError(token, "ERC2612InvalidSigner")
          .withArgs(recovered, alice.address);
      });
    });

    describe("when the signature was made for another contract", function () {
      it("reverts with ERC2612InvalidSigner(recovered, owner)", async function () {
        const { token, vault, alice, bob } = await loadFixture(holdersFixture);
        const deadline = BigInt(await time.latest()) + 3_600n;
        const { message, signature: sig } = await signPermit(token, alice, bob.address, DIMO(5), deadline, {
          verifyingContract: await vault.getAddress(),
        });
        const recovered = await recoveredPermitSigner(token, message, sig);
        await expect(token.permit(alice.address, bob.address, DIMO(5), deadline, sig.v, sig.r, sig.s))
          .to.be.revertedWithCustomError(token, "ERC2612InvalidSigner")
          .withArgs(recovered, alice.address);
      });
    });

    describe("when the submitted value differs from the signed one", function () {
      it("reverts with ERC2612InvalidSigner(recovered, owner)", async function () {
        const { token, alice, bob } = await loadFixture(holdersFixture);
        const deadline = BigInt(await time.latest()) + 3_600n;
        const { message, signature: sig } = await signPermit(token, alice, bob.address, DIMO(5), deadline);
        const recovered = await recoveredPermitSigner(token, { ...message, value: DIMO(6) }, sig);
        await expect(token.permit(alice.address, bob.address, DIMO(6), deadline, sig.v, sig.r, sig.s))
          .to.be.revertedWithCustomError(token, "ERC2612InvalidSigner")
          .withArgs(recovered, alice.address);
      });
    });

    describe("when someone other than the owner signed", function () {
      it("reverts with ERC2612InvalidSigner(signer, owner)", async function () {
        const { token, alice, bob } = await loadFixture(holdersFixture);
        const deadline = BigInt(await time.latest()) + 3_600n;
        const domain = await domainOf(token);
        const message = { owner: alice.address, spender: bob.address, value: DIMO(5), nonce: 0n, deadline };
        const sig = ethers.Signature.from(await bob.signTypedData(domain, PERMIT_TYPES, message));
        await expect(token.permit(alice.address, bob.address, DIMO(5), deadline, sig.v, sig.r, sig.s))
          .to.be.revertedWithCustomError(token, "ERC2612InvalidSigner")
          .withArgs(bob.address, alice.address);
      });
    });
  });

  describe("votes", function () {
    describe("clock", function () {
      it("is the latest block timestamp", async function () {
        const { token } = await loadFixture(holdersFixture);
        await time.increase(12_345);
        expect(await token.clock()).to.equal(BigInt(await time.latest()));
      });

      it("declares CLOCK_MODE mode=timestamp", async function () {
        const { token } = await loadFixture(holdersFixture);
        expect(await token.CLOCK_MODE()).to.equal("mode=timestamp");
      });
    });

    describe("when a holder has not delegated", function () {
      it("gives the holder no votes", async function () {
        const { token, alice } = await loadFixture(holdersFixture);
        expect(await token.getVotes(alice.address)).to.equal(0n);
        expect(await token.delegates(alice.address)).to.equal(ethers.ZeroAddress);
      });
    });

    describe("delegate", function () {
      it("gives the delegate the holder's balance as votes", async function () {
        const { token, alice, bob } = await loadFixture(holdersFixture);
        await token.connect(alice).delegate(bob.address);
        expect(await token.delegates(alice.address)).to.equal(bob.address);
        expect(await token.getVotes(bob.address)).to.equal(ALICE_GENESIS);
        expect(await token.getVotes(alice.address)).to.equal(0n);
      });

      it("lets a holder vote with its own balance by delegating to itself", async function () {
        const { token, alice } = await loadFixture(holdersFixture);
        await token.connect(alice).delegate(alice.address);
        expect(await token.getVotes(alice.address)).to.equal(ALICE_GENESIS);
      });

      it("emits DelegateChanged and DelegateVotesChanged", async function () {
        const { token, alice, bob } = await loadFixture(holdersFixture);
        await expect(token.connect(alice).delegate(bob.address))
          .to.emit(token, "DelegateChanged")
          .withArgs(alice.address, ethers.ZeroAddress, bob.address)
          .and.to.emit(token, "DelegateVotesChanged")
          .withArgs(bob.address, 0n, ALICE_GENESIS);
      });

      it("moves the votes when the holder re-delegates", async function () {
        const { token, alice, bob, carol } = await loadFixture(holdersFixture);
        await token.connect(alice).delegate(bob.address);
        await expect(token.connect(alice).delegate(carol.address))
          .to.emit(token, "DelegateVotesChanged")
          .withArgs(bob.address, ALICE_GENESIS, 0n)
          .and.to.emit(token, "DelegateVotesChanged")
          .withArgs(carol.address, 0n, ALICE_GENESIS);
        expect(await token.getVotes(bob.address)).to.equal(0n);
        expect(await token.getVotes(carol.address)).to.equal(ALICE_GENESIS);
      });

      it("adds up the balances of several holders delegating to one account", async function () {
        const { token, alice, bob, carol } = await loadFixture(holdersFixture);
        await token.connect(alice).delegate(carol.address);
        await token.connect(bob).delegate(carol.address);
        expect(await token.getVotes(carol.address)).to.equal(ALICE_GENESIS + BOB_GENESIS);
      });
    });

    describe("when tokens are transferred", function () {
      it("moves votes from the sender's delegate to the recipient's delegate", async function () {
        const { token, alice, bob, carol } = await loadFixture(holdersFixture);
        await token.connect(alice).delegate(alice.address);
        await token.connect(bob).delegate(carol.address);
        await token.connect(alice).transfer(bob.address, DIMO(100));
        expect(await token.getVotes(alice.address)).to.equal(ALICE_GENESIS - DIMO(100));
        expect(await token.getVotes(carol.address)).to.equal(BOB_GENESIS + DIMO(100));
      });

      it("does not give votes to a recipient that has not delegated", async function () {
        const { token, alice, bob } = await loadFixture(holdersFixture);
        await token.connect(alice).delegate(alice.address);
        await token.connect(alice).transfer(bob.address, DIMO(100));
        expect(await token.getVotes(alice.address)).to.equal(ALICE_GENESIS - DIMO(100));
        expect(await token.getVotes(bob.address)).to.equal(0n);
      });
    });

    describe("getPastVotes", function () {
      it("returns the votes checkpointed at a past timestamp", async function () {
        const { token, alice, bob } = await loadFixture(holdersFixture);
        await time.increase(100);
        const t1 = (await time.latest()) + 1;
        await time.setNextBlockTimestamp(t1);
        await token.connect(alice).delegate(alice.address);
        const t2 = t1 + 1_000;
        await time.setNextBlockTimestamp(t2);
        await token.connect(alice).transfer(bob.address, DIMO(100));
        await time.increase(10);

        expect(await token.getPastVotes(alice.address, t1 - 1)).to.equal(0n);
        expect(await token.getPastVotes(alice.address, t1)).to.equal(ALICE_GENESIS);
        expect(await token.getPastVotes(alice.address, t2 - 1)).to.equal(ALICE_GENESIS);
        expect(await token.getPastVotes(alice.address, t2)).to.equal(ALICE_GENESIS - DIMO(100));
      });

      describe("when the timepoint is not in the past", function () {
        it("reverts with ERC5805FutureLookup(timepoint, clock)", async function () {
          const { token, alice } = await loadFixture(holdersFixture);
          const now = BigInt(await time.latest());
          await expect(token.getPastVotes(alice.address, now))
            .to.be.revertedWithCustomError(token, "ERC5805FutureLookup")
            .withArgs(now, now);
          await expect(token.getPastVotes(alice.address, now + 1n))
            .to.be.revertedWithCustomError(token, "ERC5805FutureLookup")
            .withArgs(now + 1n, now);
        });
      });
    });

    describe("getPastTotalSupply", function () {
      it("returns the supply at a past timestamp", async function () {
        const { token } = await loadFixture(holdersFixture);
        await time.increase(10);
        expect(await token.getPastTotalSupply((await time.latest()) - 1)).to.equal(TOTAL_SUPPLY);
      });
    });

    describe("delegateBySig", function () {
      it("delegates the signer's votes, whoever submits it", async function () {
        const { token, alice, bob, outsider } = await loadFixture(holdersFixture);
        const expiry = BigInt(await time.latest()) + 3_600n;
        const sig = await signDelegation(token, alice, bob.address, 0n, expiry);
        await expect(token.connect(outsider).delegateBySig(bob.address, 0n, expiry, sig.v, sig.r, sig.s))
          .to.emit(token, "DelegateChanged")
          .withArgs(alice.address, ethers.ZeroAddress, bob.address);
        expect(await token.getVotes(bob.address)).to.equal(ALICE_GENESIS);
      });

      describe("when the signature is replayed", function () {
        it("reverts with InvalidAccountNonce(signer, currentNonce)", async function () {
          const { token, alice, bob } = await loadFixture(holdersFixture);
          const expiry = BigInt(await time.latest()) + 3_600n;
          const sig = await signDelegation(token, alice, bob.address, 0n, expiry);
          await token.delegateBySig(bob.address, 0n, expiry, sig.v, sig.r, sig.s);
          await expect(token.delegateBySig(bob.address, 0n, expiry, sig.v, sig.r, sig.s))
            .to.be.revertedWithCustomError(token, "InvalidAccountNonce")
            .withArgs(alice.address, 1n);
        });
      });

      describe("when the nonce was already used by a permit", function () {
        it("reverts with InvalidAccountNonce(signer, currentNonce)", async function () {
          const { token, alice, bob } = await loadFixture(holdersFixture);
          const deadline = BigInt(await time.latest()) + 3_600n;
          const { signature: p } = await signPermit(token, alice, bob.address, DIMO(5), deadline);
          await token.permit(alice.address, bob.address, DIMO(5), deadline, p.v, p.r, p.s);
          const sig = await signDelegation(token, alice, bob.address, 0n, deadline);
          await expect(token.delegateBySig(bob.address, 0n, deadline, sig.v, sig.r, sig.s))
            .to.be.revertedWithCustomError(token, "InvalidAccountNonce")
            .withArgs(alice.address, 1n);
        });
      });

      describe("when the expiry has passed", function () {
        it("reverts with VotesExpiredSignature(expiry)", async function () {
          const { token, alice, bob } = await loadFixture(holdersFixture);
          const expiry = BigInt(await time.latest()) + 100n;
          const sig = await signDelegation(token, alice, bob.address, 0n, expiry);
          await time.setNextBlockTimestamp(expiry + 1n);
          await expect(token.delegateBySig(bob.address, 0n, expiry, sig.v, sig.r, sig.s))
            .to.be.revertedWithCustomError(token, "VotesExpiredSignature")
            .withArgs(expiry);
        });
      });
    });
  });
});
