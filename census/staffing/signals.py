"""What the staffing services tell the apps to their right (the census package may not import them).

``small_area_handed_over`` is sent inside the transaction of ``small_area_reassign`` with ``small_area``,
``predecessor``, ``successor`` and ``actor``. A receiver moves the open work it owns in that area from the
predecessor to the successor and returns how many records it moved (``enumeration`` hands over the drafts that
were never signed); the service writes the sum in the audit log.
"""

from django.dispatch import Signal

small_area_handed_over = Signal()
