"""The words a buyer reads for the codes the services answer with (an order's status, a parcel's
scans): English source text, marked for the message catalogues (`N_`, extracted by pybabel's `-k N_`)
and translated when a page shows them."""

from __future__ import annotations


def N_(message: str) -> str:
    """gettext's name for "extract this for translation; translate it where it is shown"."""
    return message


ORDER_STATUS = {
    "placed": N_("Placed, waiting for payment"),
    "paid": N_("Paid"),
    "fulfilled": N_("Packed by the seller"),
    "shipped": N_("Shipped"),
    "delivered": N_("Delivered"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
    "return_requested": N_("Return requested"),
    "returned": N_("Returned"),
    "refunded": N_("Refunded"),
}
ORDER_EVENT = {  # the timeline's entries: what happened, not where the order stands
    "placed": N_("Order placed"),
    "paid": N_("Payment received"),
    "fulfilled": N_("Packed by the seller"),
    "shipped": N_("Handed to the carrier"),
    "delivered": N_("Delivered"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
    "return_requested": N_("Return requested"),
    "returned": N_("Return received"),
    "refunded": N_("Refunded"),
}
PAYMENT_STATUS = {
    "pending": N_("Payment pending"),
    "succeeded": N_("Payment received"),
    "declined": N_("Payment declined"),
    "authorized": N_("Authorised, charged when the team is full"),
    "captured": N_("Charged"),
    "released": N_("Released, not charged"),
}
SCAN = {
    "label_created": N_("Label created"),
    "picked_up": N_("Picked up"),
    "at_hub": N_("At a sorting hub"),
    "departed": N_("Departed"),
    "arrived": N_("Arrived"),
    "customs_held": N_("Held at customs"),
    "customs_cleared": N_("Cleared customs"),
    "out_for_delivery": N_("Out for delivery"),
    "delivered": N_("Delivered"),
    "exception": N_("Delivery problem"),
    "returned_to_sender": N_("Returned to the seller"),
    "handed_over": N_("Handed to the next carrier"),
    "accepted": N_("Accepted by the next carrier"),
}
TEAM_STATUS = {
    "open": N_("Open, waiting for buyers"),
    "completed": N_("Complete"),
    "failed": N_("Failed: not enough buyers in time"),
}
FLASH_PHASE = {
    "scheduled": N_("Starts soon"),
    "open": N_("On sale now"),
    "waiting": N_("All units held: join the waiting line"),
    "sold_out": N_("Sold out"),
    "ended": N_("Ended"),
    "closed": N_("Ended"),
}
PAYMENT_METHODS = {"card_visa": N_("Card (simulated)"), "wallet": N_("Wallet (simulated)")}
