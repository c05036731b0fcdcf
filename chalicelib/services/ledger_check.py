"""Verify the ledger: every balance equals the sum of its postings, every entry sums to
zero, and all balances together sum to zero.

Reads the whole journal and every user (a Scan: this runs as a scheduled job and as
``make ledger-check``, never on a request path).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from chalicelib.models.ledger import LedgerEntry
from chalicelib.models.users import User
from chalicelib.services import outbox
from chalicelib.services.ledger import SYSTEM_ACCOUNTS, balance_of, system_balance, user_account
from chalicelib.services.tx import Transaction

# The event a failed check emits: every active admin gets a system_alert notification.
SYSTEM_ALERT = "system.alert"


@dataclass
class Report:
    entries: int = 0
    accounts: int = 0
    total_balance: int = 0
    total_postings: int = 0
    unbalanced_entries: list[str] = field(default_factory=list)
    differences: list[dict[str, Any]] = field(default_factory=list)  # {account, balance, postings}

    @property
    def ok(self) -> bool:
        return not self.differences and not self.unbalanced_entries and self.total_balance == 0

    def alert_message(self) -> str:
        """One sentence an admin reads in the notification (counts only, never account ids)."""
        accounts, entries = len(self.differences), len(self.unbalanced_entries)
        parts = []
        if accounts:
            parts.append(f"{accounts} account{'s' if accounts != 1 else ''} whose balance differs from its postings")
        if entries:
            parts.append(f"{entries} entr{'ies' if entries != 1 else 'y'} that do{'' if entries != 1 else 'es'} "
                         "not sum to zero")
        if not parts:
            parts.append(f"balances that sum to {self.total_balance} instead of zero")
        return f"The ledger check found {' and '.join(parts)}. Investigate before correcting anything."

    def lines(self) -> list[str]:
        out = [f"ledger check: {self.entries} entries, {self.accounts} accounts, "
               f"sum of balances {self.total_balance}, sum of postings {self.total_postings}: "
               + ("OK" if self.ok else "DIFFERENCES")]
        out += [f"  entry {entry_id} does not sum to zero" for entry_id in self.unbalanced_entries]
        out += [f"  {d['account']}: balance {d['balance']} != postings {d['postings']}" for d in self.differences]
        return out


def run() -> Report:
    report = Report()
    postings: dict[str, int] = defaultdict(int)
    for entry in LedgerEntry.scan(consistent_read=True):
        report.entries += 1
        total = 0
        for posting in entry.postings:
            postings[posting.account] += int(posting.amount)
            total += int(posting.amount)
        if total:
            report.unbalanced_entries.append(entry.entry_id)
    balances: dict[str, int] = {}
    for user in User.scan(consistent_read=True):
        accounts = balance_of(user)
        for kind, value in (("available", accounts.available), ("held", accounts.held),
                            ("earnings", accounts.earnings), ("payable", accounts.payable),
                            ("receivable", -accounts.owed)):
            account = user_account(user.user_id, kind)
            if value or account in postings:
                balances[account] = value
    for account in SYSTEM_ACCOUNTS:
        balances[account] = system_balance(account)
    for account in set(balances) | set(postings):
        balance, posted = balances.get(account, 0), postings.get(account, 0)
        if balance != posted:
            report.differences.append({"account": account, "balance": balance, "postings": posted})
    report.differences.sort(key=lambda d: d["account"])
    report.accounts = len(set(balances) | set(postings))
    report.total_balance = sum(balances.values())
    report.total_postings = sum(postings.values())
    return report


def alert(report: Report) -> str:
    """Emit a ``system.alert`` for a failed check, in its own small transaction; returns the
    event id. The fan-out notifies every active admin (rules.py)."""
    tx = Transaction()
    event_id = outbox.emit(tx, SYSTEM_ALERT, kind="ledger_mismatch", message=report.alert_message(),
                           differences=len(report.differences), unbalancedEntries=len(report.unbalanced_entries),
                           totalBalance=report.total_balance)
    tx.commit()
    return event_id
