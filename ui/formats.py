"""Names and number formats that every page shows alike.

One definition each, so that the sidebar, the Evaluate and Inside pages name an
architecture the same way, and every table shows percentages with the same decimals.
"""

from __future__ import annotations

from typing import Any

ARCHITECTURE_NAMES = {
    "dense": "Dense (classic)",
    "cnn": "Convolutional (CNN)",
    "deep_cnn": "Deeper CNN (batch norm)",
}
# For st.column_config.NumberColumn. A step of 0.0001 gives "percent" two decimals:
# 98.10% and 79.20%, not 98.1% and 79.2% beside 97.85%.
PERCENT: dict[str, Any] = {"format": "percent", "step": 0.0001}


def shown_as_rounded(rows: list[dict], digits: int = 4) -> list[dict]:
    """Table rows with their fractions rounded as the table shows them.

    A column format cuts digits off rather than rounding, and Keras reports float32:
    0.6418 arrives as 0.64179998 and read 64.17% beside the sidebar's 64.18%.
    """
    return [{key: round(value, digits) if isinstance(value, float) else value
             for key, value in row.items()} for row in rows]
