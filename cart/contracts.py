"""Frozen dataclasses and enums exchanged between views, workflows and activities of cart.

Standard library only: workflows import this module.
"""
