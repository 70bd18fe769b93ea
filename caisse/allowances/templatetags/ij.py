"""Display helpers of the IJ screens and documents."""

from __future__ import annotations

from django import template

from caisse.core import money

register = template.Library()

register.filter("euros", money.euros)
