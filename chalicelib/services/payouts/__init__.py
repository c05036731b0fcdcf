"""Reader payouts (issue 18): from earned credits to money in the reader's bank.

- ``accounts``: the reader's Stripe Connect (Express) payout account: onboarding, its state
  from ``account.updated``, and the enabled accounts the payout job walks
- ``maturity``: earnings become payable once their reading's dispute window closed (the
  hourly job), refunds before and after maturation
- ``requesting``: a payout (on request or by the weekly run): one ledger movement, one in
  flight per reader
- ``transfers``: the payout's Stripe Transfer (the ``payout.requested`` consumer) and its
  return when it fails or is reversed (``transfer.reversed``, ``payout.failed``), once
- ``scheduled``: the weekly payout run; ``holds``: an admin's hold; ``queries``: the lists
  and the earnings states; ``local_transfers``: the local stand-in's reversals
"""
