"""Deputy duty registration (履职登记), points, archives, evaluation and reports to voters."""
