"""Declarative mapping rules between Amazon and Dynamics SL (DESIGN §9).

One YAML file, validated by a schema: the status table, SKU policy, customers per marketplace,
shipping, and custom-field maps. ``load_mapping()`` returns a ``Mapping`` with business verbs.
"""

from integration.mapping.address import split_address
from integration.mapping.rules import Carrier, Mapping, load_mapping
from integration.mapping.schema import Problem, check_text

__all__ = ["Carrier", "Mapping", "Problem", "check_text", "load_mapping", "split_address"]
