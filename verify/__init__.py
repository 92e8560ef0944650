"""Independent oracles over the captured plan: checkov (through a Terraform-plan JSON)."""
