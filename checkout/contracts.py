"""Frozen dataclasses and enums exchanged between views, workflows and activities of checkout.

Standard library only: workflows import this module.
"""
