"""Frozen dataclasses and enums exchanged between views, workflows and activities of inventory.

Standard library only: workflows import this module.
"""
