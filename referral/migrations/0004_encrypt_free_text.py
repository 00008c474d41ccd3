"""Free text a person typed (reasons, details) is encrypted at rest, in the
rows and in their history (issue: no identity in clear anywhere). The column
changes type, then every existing value is encrypted with the newest key."""

import common.fields
from django.db import migrations, models

COLUMNS = {'Referral': ('exploitation_other_detail', 'withdrawal_reason'), 'HistoricalReferral': ('exploitation_other_detail', 'withdrawal_reason'), 'Routing': ('reason',), 'HistoricalRouting': ('reason',)}


class Migration(migrations.Migration):

    dependencies = [
        ('referral', '0003_grant_permissions'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalreferral',
            name='pseudonymised_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='pseudonymised at'),
        ),
        migrations.AddField(
            model_name='referral',
            name='pseudonymised_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='pseudonymised at'),
        ),
        migrations.AlterField(
            model_name='historicalreferral',
            name='exploitation_other_detail',
            field=common.fields.EncryptedTextField(blank=True, default='', max_length=200, verbose_name='other form, in short'),
        ),
        migrations.AlterField(
            model_name='historicalreferral',
            name='withdrawal_reason',
            field=common.fields.EncryptedTextField(blank=True, default='', max_length=500, verbose_name='reason for withdrawal'),
        ),
        migrations.AlterField(
            model_name='historicalrouting',
            name='reason',
            field=common.fields.EncryptedTextField(blank=True, default='', verbose_name='reason'),
        ),
        migrations.AlterField(
            model_name='referral',
            name='exploitation_other_detail',
            field=common.fields.EncryptedTextField(blank=True, default='', max_length=200, verbose_name='other form, in short'),
        ),
        migrations.AlterField(
            model_name='referral',
            name='withdrawal_reason',
            field=common.fields.EncryptedTextField(blank=True, default='', max_length=500, verbose_name='reason for withdrawal'),
        ),
        migrations.AlterField(
            model_name='routing',
            name='reason',
            field=common.fields.EncryptedTextField(blank=True, default='', verbose_name='reason'),
        ),
        common.fields.encrypt_columns_operation("referral", COLUMNS),
    ]
