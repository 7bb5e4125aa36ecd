"""The simulated payment provider's ledger kept in a table of its own (`provider_ledger`).

An entry is written in the transaction that records the merchant's payment: it exists exactly when the
payment does, so a crash between the two cannot leave a payment the provider never heard of, and a
payment rolled back leaves no authorisation to void (a real provider would have to). A query reads in a
transaction of its own, as a call to the provider would: never inside the merchant's.

Callers that authorise without a transaction (flash sales and group buys apply the provider's answer
in the same request and never ask again) leave no entry: the provider answers `unknown` for them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from entrepot.ordering.models import ProviderLedgerEntry
from entrepot.ordering.payments import Authorisation, PaymentRequest
from entrepot.platform.db import Database, insert_many, table_of

_entry = ProviderLedgerEntry
_LEDGER = table_of(ProviderLedgerEntry)
_FIND = select(
    _entry.payment_ref,
    _entry.order_ref,
    _entry.amount_minor,
    _entry.currency,
    _entry.method,
    _entry.decline_reason,
).where(_entry.payment_ref == bindparam("ref"))


class TableLedger:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, entries: Sequence[Authorisation], session: Session | None) -> None:
        if session is None or not entries:
            return
        rows = [
            {
                "payment_ref": entry.request.payment_id,
                "order_ref": entry.request.order_id,
                "method": entry.request.method,
                "amount_minor": entry.request.amount_minor,
                "currency": entry.request.currency,
                "decline_reason": entry.reason,
            }
            for entry in entries
        ]
        # one statement for a batch's entries (an executemany was a statement per row for PostgreSQL)
        insert_many(session, _LEDGER, rows)

    def find(self, payment_ref: str) -> Authorisation | None:
        with self._db.transaction() as session:
            row = session.execute(_FIND, {"ref": payment_ref}).first()
        if row is None:
            return None
        request = PaymentRequest(row.payment_ref, row.order_ref, row.amount_minor, row.currency, row.method)
        return Authorisation(request, row.decline_reason)
