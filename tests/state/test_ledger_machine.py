"""Any sequence of grants, holds, releases, captures, payouts, refunds, reversals and retried
movements across three clients and two readers, and of the readers' earnings maturing,
paid out to their banks, returned (a failed or reversed transfer) and clawed back (a refund
after maturation, owed beyond what is payable): balances never go below their floor, all
accounts always sum to zero, every balance equals the postings of its journal entries, a
refused movement writes nothing, a retried one applies once, and the ledger agrees with a
simple model after every step."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from tests.state.machine import STATE_SETTINGS, ApiStateMachine
from tests.support import ledger as moves

CLIENTS = st.sampled_from(["c1", "c2", "c3"])
READERS = st.sampled_from(["r1", "r2"])
AMOUNTS = st.integers(1, 60)
KINDS = ("available", "held", "earnings", "payable", "receivable")


@dataclass
class Reading:
    ref: str
    client: str
    amount: int
    state: str = "held"  # held -> captured -> paid (released readings are dropped)
    reader: str | None = None


@dataclass
class BankPayout:
    payout_id: str
    reader: str
    credits: int
    returned: bool = False


def _readings_in(state: str) -> Callable[[Ledger], bool]:
    return lambda self: any(reading.state == state for reading in self.readings)


def _readers_with(kind: str) -> Callable[[Ledger], bool]:
    return lambda self: any(self.users_model[reader][kind] > 0 for reader in ("r1", "r2"))


class Ledger(ApiStateMachine):
    def __init__(self) -> None:
        super().__init__()
        from chalicelib.models.ledger import SystemAccount

        self.users_model: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(KINDS, 0))
        # (account, shard) -> what this example moved there. The ledger's floors apply per
        # shard: a payout or refund can only take what its reading's shard holds.
        self.system_model: dict[tuple[str, int], int] = defaultdict(int)
        self.readings: list[Reading] = []
        self.bank_payouts: list[BankPayout] = []
        self.applied: list[tuple[str, Callable[[], bool]]] = []  # entry id, the call that applied it
        self.posted: dict[str, int] = defaultdict(int)  # postings of the entries written, per account
        self.counter = 0
        # The moto account is shared by all examples (tests/state/machine.py). Teardown puts
        # the system accounts back, but compare changes anyway.
        self.baseline = {(item.account, int(item.shard)): int(item.balance or 0)
                         for item in SystemAccount.scan(consistent_read=True)}
        for handle in ("c1", "c2", "c3"):
            self.user(handle)
        for handle in ("r1", "r2"):
            self.user(handle, role="reader")

    # --- helpers ----------------------------------------------------------------------

    def entry_id(self, kind: str) -> str:
        self.counter += 1
        return f"{self.namespace}:{kind}:{self.counter}"

    def ref(self, kind: str) -> str:
        """A reference picks the shard of the system accounts a movement touches. It does not
        carry the namespace, so the same steps use the same shards in every run."""
        return f"{kind}:{self.counter}"

    def kind_of(self, entry_id: str) -> str:
        """For the statistics: "hold" of "<namespace>:hold:3", "bank payout-return" of
        "payout-return:<namespace>-po-4" (a payout's entry ids are fixed by the ledger)."""
        head, _, rest = entry_id.partition(":")
        return rest.split(":")[0] if head == self.namespace else f"bank {head}"

    @staticmethod
    def shard(ref: str) -> int:
        from chalicelib.services import ledger

        return ledger.shard_of(ref)

    def own(self, account: str, shard: int) -> int:
        """What this example put on one shard of a system account."""
        return self.system_model[(account, shard)]

    def whole(self, account: str, shard: int) -> int:
        """The shard's whole balance (with whatever was there before the example)."""
        return self.baseline.get((account, shard), 0) + self.system_model[(account, shard)]

    @staticmethod
    def within_or_beyond(amount: int, limit: int, whole: int, beyond: bool) -> tuple[int, bool]:
        """(amount, expected to apply): at most ``limit`` (certain to be there) or more than
        ``whole`` (certain to be refused); nothing in between, which could depend on what
        earlier examples left on a shared shard."""
        if beyond or limit <= 0:
            return whole + amount, False
        return min(amount, limit), True

    def pick(self, data: Any, state: str) -> Reading:
        return data.draw(st.sampled_from([r for r in self.readings if r.state == state]), label="reading")

    def attempt(self, entry_id: str, call: Callable[[], bool], expect_ok: bool, labels: set[str] | None = None) -> bool:
        """Run a new movement (its own unit of work), which the model says the ledger must
        apply or refuse naming ``labels``, the floors that stop it; record the postings of the
        entry it wrote, or check that it wrote none."""
        from chalicelib.models.ledger import LedgerEntry
        from chalicelib.services.tx import ConditionsFailed

        event(f"{self.kind_of(entry_id)} {'applied' if expect_ok else 'refused'}")
        if expect_ok:
            assert call() is True
            self.applied.append((entry_id, call))
            entry = LedgerEntry.get(entry_id, consistent_read=True)
            assert sum(int(p.amount) for p in entry.postings) == 0, entry_id
            for p in entry.postings:
                self.posted[p.account] += int(p.amount)
            return True
        try:
            call()
        except ConditionsFailed as exc:
            assert exc.labels == labels, entry_id
            assert LedgerEntry.count(entry_id, consistent_read=True) == 0, f"refused {entry_id} left an entry"
            return False
        raise AssertionError(f"{entry_id} should have been refused")

    # --- rules ------------------------------------------------------------------------

    @initialize(credits=st.lists(st.integers(0, 150), min_size=3, max_size=3),
                accepted=st.lists(st.integers(0, 40), min_size=3, max_size=3))
    def starting_balances_and_accepted_readings(self, credits, accepted):
        """Most examples start with some credits and a reading the reader accepted, so the
        later steps can pay, refund and settle from the first one."""
        for who, amount, reading in zip(("c1", "c2", "c3"), credits, accepted, strict=True):
            if amount:
                self.grant(who, amount, "purchase")
            if reading and self.users_model[who]["available"]:
                self.hold(who, reading, beyond=False)
                self.settle(self.readings[-1], capture=True)

    @initialize(earned=st.lists(st.integers(0, 120), min_size=2, max_size=2),
                matured=st.lists(st.integers(0, 100), min_size=2, max_size=2),
                paid_out=st.lists(st.booleans(), min_size=2, max_size=2))
    def readers_start_with_earnings(self, earned, matured, paid_out):
        """Most examples start with readers paid for a reading (c3 booked them), part of it
        matured (matured percent) and perhaps paid out to their bank, so the payout, return and
        clawback rules have credits to move."""
        from chalicelib.services import ledger

        for reader, amount, percent, pay in zip(("r1", "r2"), earned, matured, paid_out, strict=True):
            if not amount:
                continue
            self.grant("c3", amount, "promotion")
            self.hold("c3", amount, beyond=False)
            reading = self.readings[-1]
            self.settle(reading, capture=True)
            fee = ledger.platform_fee(amount)
            entry_id, reader_id = self.entry_id("payout"), self.users[reader]
            # Bound now: a retry replays the call after the loop moved on.
            self.attempt(entry_id, lambda r=reader_id, a=amount, e=entry_id, ref=reading.ref: moves.pay_reader(
                r, a, entry_id=e, ref=ref), expect_ok=True)
            shard = self.shard(reading.ref)
            self.system_model[("platform:revenue", shard)] -= amount
            self.system_model[("platform:fees", shard)] += fee
            self.users_model[reader]["earnings"] += amount - fee
            reading.state, reading.reader = "paid", reader
            credits = (amount - fee) * percent // 100
            if credits:
                entry_id = self.entry_id("mature")
                self.attempt(entry_id, lambda r=reader_id, c=credits, e=entry_id, ref=reading.ref: moves.mature(
                    r, c, entry_id=e, ref=ref), expect_ok=True)
                self.users_model[reader]["earnings"] -= credits
                self.users_model[reader]["payable"] += credits
            if credits and pay:
                self.counter += 1
                payout_id = f"{self.namespace}-po-{self.counter}"
                self.attempt(f"payout:{payout_id}", lambda r=reader_id, c=credits, pid=payout_id: moves.payout(
                    r, c, payout_id=pid), expect_ok=True)
                self.users_model[reader]["payable"] -= credits
                self.system_model[("external:payouts", self.shard(payout_id))] += credits
                self.bank_payouts.append(BankPayout(payout_id, reader, credits))

    @rule(who=CLIENTS, credits=st.integers(1, 100), source=st.sampled_from(["purchase", "promotion"]))
    def grant(self, who, credits, source):
        """Credits in: a debt (receivable) is paid down first."""
        from chalicelib.services import ledger

        entry_id, ref, user_id = self.entry_id("grant"), self.ref("cs"), self.users[who]
        self.attempt(entry_id, lambda: moves.grant(user_id, credits, source=source, entry_id=entry_id, ref=ref),
                     expect_ok=True)
        account = self.users_model[who]
        pay_down = min(credits, -account["receivable"])
        account["receivable"] += pay_down
        account["available"] += credits - pay_down
        self.system_model[(ledger.GRANT_SOURCES[source], self.shard(ref))] -= credits

    @rule(who=CLIENTS, amount=AMOUNTS, beyond=st.booleans())
    def hold(self, who, amount, beyond):
        from chalicelib.services import ledger

        account = self.users_model[who]
        amount, ok = self.within_or_beyond(amount, account["available"], account["available"], beyond)
        entry_id, ref, user_id = self.entry_id("hold"), self.ref("rd"), self.users[who]
        if self.attempt(entry_id, lambda: moves.hold(user_id, amount, entry_id=entry_id, ref=ref),
                        expect_ok=ok, labels={ledger.user_label(user_id)}):
            account["available"] -= amount
            account["held"] += amount
            self.readings.append(Reading(ref=ref, client=who, amount=amount))

    @precondition(_readings_in("held"))
    @rule(data=st.data(), capture=st.booleans())
    def settle_a_hold(self, data, capture):
        """A reading's hold: released (declined) or captured (accepted)."""
        self.settle(self.pick(data, "held"), capture)

    def settle(self, reading: Reading, capture: bool) -> None:
        from chalicelib.services import ledger

        account, user_id = self.users_model[reading.client], self.users[reading.client]
        entry_id = self.entry_id("capture" if capture else "release")
        operation = moves.capture if capture else moves.release
        if self.attempt(entry_id, lambda: operation(user_id, reading.amount, entry_id=entry_id, ref=reading.ref),
                        expect_ok=account["held"] >= reading.amount, labels={ledger.user_label(user_id)}):
            account["held"] -= reading.amount
            if capture:
                self.system_model[("platform:revenue", self.shard(reading.ref))] += reading.amount
                reading.state = "captured"
            else:
                account["available"] += reading.amount
                self.readings.remove(reading)

    @rule(who=CLIENTS, amount=AMOUNTS, beyond=st.booleans(), capture=st.booleans())
    def release_or_capture_part_of_the_held_credits(self, who, amount, beyond, capture):
        """Not tied to a reading's hold: refused whenever more than the client's total held."""
        from chalicelib.services import ledger

        account = self.users_model[who]
        amount, ok = self.within_or_beyond(amount, account["held"], account["held"], beyond)
        entry_id, ref, user_id = self.entry_id("capture" if capture else "release"), self.ref("rd"), self.users[who]
        operation = moves.capture if capture else moves.release
        if self.attempt(entry_id, lambda: operation(user_id, amount, entry_id=entry_id, ref=ref),
                        expect_ok=ok, labels={ledger.user_label(user_id)}):
            account["held"] -= amount
            if capture:
                self.system_model[("platform:revenue", self.shard(ref))] += amount
                self.readings.append(Reading(ref=ref, client=who, amount=amount, state="captured"))
            else:
                account["available"] += amount

    @precondition(_readings_in("captured"))
    @rule(data=st.data(), reader=READERS, amount=AMOUNTS, beyond=st.booleans())
    def pay_reader(self, data, reader, amount, beyond):
        """The reading completed: the reader earns it minus the platform's fee."""
        from chalicelib.services import ledger

        reading = self.pick(data, "captured")
        shard = self.shard(reading.ref)
        amount, ok = self.within_or_beyond(amount, self.own("platform:revenue", shard),
                                           self.whole("platform:revenue", shard), beyond)
        fee = ledger.platform_fee(amount)
        entry_id, reader_id = self.entry_id("payout"), self.users[reader]
        if self.attempt(entry_id, lambda: moves.pay_reader(reader_id, amount, entry_id=entry_id, ref=reading.ref),
                        expect_ok=ok, labels={"ledger:account:platform:revenue"}):
            self.system_model[("platform:revenue", shard)] -= amount
            self.system_model[("platform:fees", shard)] += fee
            self.users_model[reader]["earnings"] += amount - fee
            reading.state, reading.reader = "paid", reader

    @precondition(_readings_in("captured"))
    @rule(data=st.data(), amount=AMOUNTS, beyond=st.booleans())
    def refund_before_payout(self, data, amount, beyond):

        reading = self.pick(data, "captured")
        shard = self.shard(reading.ref)
        amount, ok = self.within_or_beyond(amount, self.own("platform:revenue", shard),
                                           self.whole("platform:revenue", shard), beyond)
        entry_id, client_id = self.entry_id("refund"), self.users[reading.client]
        if self.attempt(entry_id, lambda: moves.refund(client_id, amount, entry_id=entry_id, ref=reading.ref),
                        expect_ok=ok, labels={"ledger:account:platform:revenue"}):
            self.system_model[("platform:revenue", shard)] -= amount
            self.users_model[reading.client]["available"] += amount

    @precondition(_readings_in("paid"))
    @rule(data=st.data(), reader_share=st.integers(0, 60), fee_share=st.integers(0, 15),
          beyond=st.sampled_from([None, "earnings", "fees"]))
    def refund_after_payout(self, data, reader_share, fee_share, beyond):
        """From the reader's earnings and the platform's fee; refused beyond either."""

        reading = self.pick(data, "paid")
        assert reading.reader is not None
        shard = self.shard(reading.ref)
        earnings = self.users_model[reading.reader]["earnings"]
        reader_share = earnings + 1 + reader_share if beyond == "earnings" else min(reader_share, earnings)
        if beyond == "fees":
            fee_share += 1 + self.whole("platform:fees", shard)
        else:
            fee_share = min(fee_share, self.own("platform:fees", shard))
        amount = reader_share + fee_share
        if amount == 0:
            return
        entry_id, client_id, reader_id = self.entry_id("refund"), self.users[reading.client], self.users[reading.reader]
        labels = {"earnings": {f"ledger:user:{reader_id}"}, "fees": {"ledger:account:platform:fees"}}.get(beyond or "")
        if self.attempt(entry_id, lambda: moves.refund(client_id, amount, entry_id=entry_id, ref=reading.ref,
                                                        reader_id=reader_id, reader_share=reader_share,
                                                        fee_share=fee_share),
                        expect_ok=beyond is None, labels=labels):
            self.users_model[reading.reader]["earnings"] -= reader_share
            self.system_model[("platform:fees", shard)] -= fee_share
            self.users_model[reading.client]["available"] += amount

    @rule(who=CLIENTS, credits=st.integers(1, 60))
    def reverse(self, who, credits):
        """A refunded or disputed purchase: what was already spent becomes a debt."""

        entry_id, ref, user_id = self.entry_id("reversal"), self.ref("cs"), self.users[who]
        self.attempt(entry_id, lambda: moves.reverse(user_id, credits, entry_id=entry_id, ref=ref), expect_ok=True)
        account = self.users_model[who]
        take = min(credits, account["available"])
        account["available"] -= take
        account["receivable"] -= credits - take
        self.system_model[("external:stripe", self.shard(ref))] += credits

    # --- readers' earnings: maturation, payouts to the bank, returns and clawbacks -----------

    @precondition(_readers_with("earnings"))
    @rule(data=st.data(), amount=AMOUNTS, beyond=st.booleans())
    def mature(self, data, amount, beyond):
        """A reading's dispute window closed: earnings -> payable, a debt paid down first."""
        from chalicelib.services import ledger

        reader = data.draw(st.sampled_from([r for r in ("r1", "r2") if self.users_model[r]["earnings"] > 0]))
        account, reader_id = self.users_model[reader], self.users[reader]
        amount, ok = self.within_or_beyond(amount, account["earnings"], account["earnings"], beyond)
        entry_id, ref = self.entry_id("mature"), self.ref("rd")
        if self.attempt(entry_id, lambda: moves.mature(reader_id, amount, entry_id=entry_id, ref=ref),
                        expect_ok=ok, labels={ledger.user_label(reader_id)}):
            pay_down = min(amount, -account["receivable"])
            account["earnings"] -= amount
            account["payable"] += amount - pay_down
            account["receivable"] += pay_down

    @precondition(_readers_with("payable"))
    @rule(data=st.data(), amount=AMOUNTS, beyond=st.booleans())
    def payout_to_the_bank(self, data, amount, beyond):
        """Payable credits out to the reader's bank; refused beyond what is payable."""
        from chalicelib.services import ledger

        reader = data.draw(st.sampled_from([r for r in ("r1", "r2") if self.users_model[r]["payable"] > 0]))
        account, reader_id = self.users_model[reader], self.users[reader]
        amount, ok = self.within_or_beyond(amount, account["payable"], account["payable"], beyond)
        self.counter += 1
        payout_id = f"{self.namespace}-po-{self.counter}"
        if self.attempt(f"payout:{payout_id}", lambda: moves.payout(reader_id, amount, payout_id=payout_id),
                        expect_ok=ok, labels={ledger.user_label(reader_id)}):
            account["payable"] -= amount
            self.system_model[("external:payouts", self.shard(payout_id))] += amount
            self.bank_payouts.append(BankPayout(payout_id, reader, amount))

    @precondition(lambda self: any(not payout.returned for payout in self.bank_payouts))
    @rule(data=st.data())
    def return_a_payout(self, data):
        """A failed or reversed transfer: the payout's credits back to payable (a debt paid
        down first), on the payout's own shard of external:payouts."""
        payout = data.draw(st.sampled_from([p for p in self.bank_payouts if not p.returned]), label="payout")
        account, reader_id = self.users_model[payout.reader], self.users[payout.reader]
        self.attempt(f"payout-return:{payout.payout_id}",
                     lambda: moves.payout_return(reader_id, payout.credits, payout_id=payout.payout_id),
                     expect_ok=True)
        pay_down = min(payout.credits, -account["receivable"])
        account["payable"] += payout.credits - pay_down
        account["receivable"] += pay_down
        self.system_model[("external:payouts", self.shard(payout.payout_id))] -= payout.credits
        payout.returned = True

    @precondition(_readings_in("paid"))
    @rule(data=st.data(), reader_share=st.integers(0, 80), fee_share=st.integers(0, 15),
          fees_beyond=st.booleans())
    def clawback_after_maturation(self, data, reader_share, fee_share, fees_beyond):
        """A refund of a reading whose earnings matured: the reader's share from payable, the
        rest owed (never refused for the reader); refused beyond the platform fee's shard."""
        reading = self.pick(data, "paid")
        assert reading.reader is not None
        shard = self.shard(reading.ref)
        fee_share = fee_share + 1 + self.whole("platform:fees", shard) if fees_beyond else min(
            fee_share, self.own("platform:fees", shard))
        amount = reader_share + fee_share
        if amount == 0:
            return
        entry_id = self.entry_id("clawback")
        client_id, reader_id = self.users[reading.client], self.users[reading.reader]
        if self.attempt(entry_id, lambda: moves.refund_matured(client_id, amount, reader_id=reader_id,
                                                                reader_share=reader_share, fee_share=fee_share,
                                                                entry_id=entry_id, ref=reading.ref),
                        expect_ok=not fees_beyond, labels={"ledger:account:platform:fees"}):
            account = self.users_model[reading.reader]
            take = min(reader_share, account["payable"])
            account["payable"] -= take
            account["receivable"] -= reader_share - take
            self.system_model[("platform:fees", shard)] -= fee_share
            self.users_model[reading.client]["available"] += amount

    @precondition(lambda self: self.applied)
    @rule(data=st.data())
    def retry_an_applied_movement(self, data):
        """A redelivered event or a retried request: same entry id, nothing changes (the
        model does not move, the invariants check the ledger did not either)."""
        entry_id, call = data.draw(st.sampled_from(self.applied), label="retried")
        event(f"{self.kind_of(entry_id)} retried")
        assert call() is False, entry_id

    # --- invariants -------------------------------------------------------------------

    def _real_users(self) -> dict[str, dict[str, int]]:
        from chalicelib.models.users import User

        handles = {user_id: handle for handle, user_id in self.users.items()}
        return {handles[user.user_id]: {"available": int(user.credits_available), "held": int(user.credits_held),
                                        "earnings": int(user.credits_earnings),
                                        "payable": int(user.credits_payable),
                                        "receivable": int(user.credits_receivable)}
                for user in User.batch_get(list(handles), consistent_read=True)}

    def _real_system_changes(self) -> dict[tuple[str, int], int]:
        from chalicelib.models.ledger import SystemAccount

        changes = {}
        for item in SystemAccount.scan(consistent_read=True):
            key = (item.account, int(item.shard))
            if int(item.balance or 0) != self.baseline.get(key, 0):
                changes[key] = int(item.balance or 0) - self.baseline.get(key, 0)
        return changes

    @invariant()
    def the_ledger_matches_the_model_and_the_journal(self):
        from chalicelib.services import ledger

        real = self._real_users()
        assert set(real) == set(self.users)
        for handle, accounts in real.items():
            assert accounts == self.users_model[handle], handle
            assert min(accounts["available"], accounts["held"], accounts["earnings"], accounts["payable"]) >= 0, handle
            assert accounts["receivable"] <= 0, handle

        system_changes = self._real_system_changes()
        assert system_changes == {key: value for key, value in self.system_model.items() if value}
        for (account, shard), value in system_changes.items():
            if account not in ledger.UNBOUNDED:
                assert self.baseline.get((account, shard), 0) + value >= 0, (account, shard)
        # Everything the example moved sums to zero over the users and the system accounts.
        assert sum(sum(accounts.values()) for accounts in real.values()) + sum(system_changes.values()) == 0

        # Every balance equals the sum of the postings of the entries written so far.
        for handle, accounts in real.items():
            for kind, value in accounts.items():
                assert self.posted[ledger.user_account(self.users[handle], kind)] == value, (handle, kind)
        for account in ledger.SYSTEM_ACCOUNTS:
            moved = sum(value for (name, _), value in system_changes.items() if name == account)
            assert self.posted[account] == moved, account

    def teardown(self):
        """The whole ledger checks out (ledger_check reads all of it); then this example's
        items are removed and the system accounts set back, so every example starts from
        the same small tables (moto deep-copies the tables a transaction touches)."""
        from chalicelib.models.ledger import LedgerEntry, LedgerLine, SystemAccount
        from chalicelib.models.users import User
        from chalicelib.services import ledger_check

        try:
            result = ledger_check.run()
            assert result.ok, result.lines()
        finally:
            with LedgerEntry.batch_write() as entries:  # with any that a failing example wrote unexpectedly
                for prefix in (f"{self.namespace}:", f"payout:{self.namespace}-", f"payout-return:{self.namespace}-"):
                    for entry in LedgerEntry.scan(LedgerEntry.entry_id.startswith(prefix)):
                        entries.delete(entry)
            with LedgerLine.batch_write() as lines:
                for user_id in self.users.values():
                    for line in LedgerLine.query(user_id):
                        lines.delete(line)
            with User.batch_write() as users:
                for user_id in self.users.values():
                    users.delete(User(user_id=user_id))
            for item in SystemAccount.scan(consistent_read=True):
                key = (item.account, int(item.shard))
                if key not in self.baseline:
                    item.delete()
                elif int(item.balance or 0) != self.baseline[key]:
                    SystemAccount(account=item.account, shard=item.shard, balance=self.baseline[key]).save()


Ledger.TestCase.settings = settings(STATE_SETTINGS, max_examples=30, stateful_step_count=25)
TestLedger = Ledger.TestCase
