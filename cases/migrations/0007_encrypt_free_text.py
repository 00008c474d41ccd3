"""Free text a person typed (reasons, details) is encrypted at rest, in the
rows and in their history (issue: no identity in clear anywhere). The column
changes type, then every existing value is encrypted with the newest key."""

import common.fields
from django.db import migrations, models

COLUMNS = {'Transfer': ('reason', 'decision_reason'), 'HistoricalTransfer': ('reason', 'decision_reason'), 'CaseShare': ('purpose_detail',), 'HistoricalCaseShare': ('purpose_detail',)}


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0006_grants_are_the_authority'),
    ]

    operations = [
        migrations.AlterField(
            model_name='caseshare',
            name='purpose_detail',
            field=common.fields.EncryptedTextField(max_length=200, verbose_name='purpose, in short'),
        ),
        migrations.AlterField(
            model_name='historicalcaseshare',
            name='purpose_detail',
            field=common.fields.EncryptedTextField(max_length=200, verbose_name='purpose, in short'),
        ),
        migrations.AlterField(
            model_name='historicaltransfer',
            name='decision_reason',
            field=common.fields.EncryptedTextField(blank=True, default='', verbose_name='reason for the decision'),
        ),
        migrations.AlterField(
            model_name='historicaltransfer',
            name='reason',
            field=common.fields.EncryptedTextField(verbose_name='reason'),
        ),
        migrations.AlterField(
            model_name='transfer',
            name='decision_reason',
            field=common.fields.EncryptedTextField(blank=True, default='', verbose_name='reason for the decision'),
        ),
        migrations.AlterField(
            model_name='transfer',
            name='reason',
            field=common.fields.EncryptedTextField(verbose_name='reason'),
        ),
        common.fields.encrypt_columns_operation("cases", COLUMNS),
    ]
