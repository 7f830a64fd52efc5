"""Frozen dataclasses and enums exchanged between views, workflows and activities of orders.

Standard library only: workflows import this module.
"""
